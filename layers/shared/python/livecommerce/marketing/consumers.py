"""What marketing does with other contexts' events (the commerce_events function).

OrderPaid: the buyer earns points for the whole yuan paid, once per order (the
ledger's reference item is keyed by the order, so a repeated delivery awards nothing).
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from livecommerce.marketing import refunds, repository, rules, service
from livecommerce.marketing.settings import get_marketing_settings
from livecommerce.orders.events import OrderPaid, OrderRefunded
from livecommerce.shared.clock import utcnow
from livecommerce.shared.observability import logger


def on_order_paid(event: OrderPaid) -> dict[str, Any]:
    points = rules.points_for(event.total, get_marketing_settings().points_per_yuan)
    awarded = service.award_points(event.user_id, points, reason="order_paid", ref=f"order:{event.order_id}")
    return {"detail_type": "OrderPaid", "points": points if awarded else 0, "awarded": awarded}


def on_order_refunded(event: OrderRefunded) -> dict[str, Any]:
    """A refund takes back the points it paid for and, for a full refund before shipping, gives the
    coupon back while valid; once per refund id (the ledger reference; the coupon's state)."""
    points = rules.points_to_reverse(total=event.total, refunded_total=event.refunded_total, amount=event.amount,
                                     points_per_yuan=get_marketing_settings().points_per_yuan)
    taken = refunds.take_back_points(event.user_id, points, reason="order_refunded", ref=f"refund:{event.refund_id}")
    coupon_back = False
    if event.coupon_id:
        coupon = repository.get_coupon(event.user_id, event.coupon_id)
        if coupon is not None and rules.coupon_returns(order_state=event.state, stock_returned=event.stock_returned,
                                                       coupon_valid_until=coupon.valid_until, now=utcnow()):
            coupon_back = refunds.give_coupon_back(event.user_id, event.coupon_id, event.order_id)
    return {"detail_type": "OrderRefunded", "points": -(taken or 0), "duplicate": taken is None,
            "coupon_returned": coupon_back}


def on_domain_event(event: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge delivery: the events marketing subscribes to (spec.py), anything else ignored."""
    detail_type = event.get("detail-type")
    if detail_type == "OrderPaid":
        try:
            paid = OrderPaid.parse(event.get("detail") or {})
        except ValidationError:
            logger.warning("an OrderPaid that is not one; ignored", extra={"event_id": event.get("id")})
        else:
            if paid.order_id and paid.user_id:
                return on_order_paid(paid)
    if detail_type == "OrderRefunded":
        try:
            refunded = OrderRefunded.parse(event.get("detail") or {})
        except ValidationError:
            logger.warning("an OrderRefunded that is not one; ignored", extra={"event_id": event.get("id")})
        else:
            return on_order_refunded(refunded)
    return {"detail_type": detail_type, "ignored": True}

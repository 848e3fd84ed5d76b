"""What marketing does with other contexts' events (the commerce_events function).

OrderPaid: the buyer earns points for the whole yuan paid, once per order (the
ledger's reference item is keyed by the order, so a repeated delivery awards nothing).
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from livecommerce.marketing import rules, service
from livecommerce.marketing.settings import get_marketing_settings
from livecommerce.orders.events import OrderPaid
from livecommerce.shared.observability import logger


def on_order_paid(event: OrderPaid) -> dict[str, Any]:
    points = rules.points_for(event.total, get_marketing_settings().points_per_yuan)
    awarded = service.award_points(event.user_id, points, reason="order_paid", ref=f"order:{event.order_id}")
    return {"detail_type": "OrderPaid", "points": points if awarded else 0, "awarded": awarded}


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
    return {"detail_type": detail_type, "ignored": True}

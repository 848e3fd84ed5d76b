"""What marketing does with other contexts' events (the commerce_events function).

OrderPaid: the buyer earns points for the whole yuan paid, once per order (the
ledger's reference item is keyed by the order, so a repeated delivery awards nothing).
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from livecommerce.marketing import rules, service
from livecommerce.marketing.settings import get_marketing_settings
from livecommerce.shared.observability import logger


class OrderPaid(BaseModel):
    """The fields of orders' OrderPaid that earn points (orders.events.OrderPaid once it is typed)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: str
    user_id: str
    total: int | None = None


def on_order_paid(event: OrderPaid) -> dict[str, Any]:
    points = rules.points_for(event.total or 0, get_marketing_settings().points_per_yuan)
    awarded = service.award_points(event.user_id, points, reason="order_paid", ref=f"order:{event.order_id}")
    return {"detail_type": "OrderPaid", "points": points if awarded else 0, "awarded": awarded}


def on_domain_event(event: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge delivery: the events marketing subscribes to (spec.py), anything else ignored."""
    detail_type = event.get("detail-type")
    if detail_type == "OrderPaid":
        try:
            paid = OrderPaid.model_validate(event.get("detail") or {})
        except ValidationError:
            logger.warning("OrderPaid without an order or a buyer; ignored", extra={"event_id": event.get("id")})
        else:
            if paid.order_id and paid.user_id:
                return on_order_paid(paid)
    return {"detail_type": detail_type, "ignored": True}

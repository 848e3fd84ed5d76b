"""What engagement does with other contexts' events (the engagement_events function).

OrderPaid: the buyer may enter the room's buyers' lotteries (a ROOMBUYER item kept 30 days;
a repeated delivery or a second order changes nothing).
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from livecommerce.engagement import service
from livecommerce.orders.events import OrderPaid
from livecommerce.shared.observability import logger


def on_domain_event(event: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge delivery: the events engagement subscribes to (spec.py), anything else ignored."""
    detail_type = event.get("detail-type")
    if detail_type == "OrderPaid":
        try:
            paid = OrderPaid.parse(event.get("detail") or {})
        except ValidationError:
            logger.warning("an OrderPaid that is not one; ignored", extra={"event_id": event.get("id")})
            return {"detail_type": detail_type, "ignored": True}
        service.record_buyer(paid.room_id, paid.user_id, paid.order_id)
        return {"detail_type": detail_type, "buyer": True}
    return {"detail_type": detail_type, "ignored": True}

"""What engagement does with other contexts' events (the engagement_events function).

OrderPaid: the buyer may enter the room's buyers' lotteries (a ROOMBUYER item kept 30 days;
a repeated delivery or a second order changes nothing).
ViewerWatchTimes (analytics, per room after its report): watch-time points per viewer; ShareArrived
(marketing): share points for the sharer (engagement.points: daily caps, then the ledger, once per ref).
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from livecommerce.analytics.events import ViewerWatchTimes
from livecommerce.engagement import points, service
from livecommerce.marketing.events import ShareArrived
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
    if detail_type == "ViewerWatchTimes":      # points for watch time (engagement.participation)
        try:
            watched = ViewerWatchTimes.parse(event.get("detail") or {})
        except ValidationError:
            logger.warning("a ViewerWatchTimes that is not one; ignored", extra={"event_id": event.get("id")})
            return {"detail_type": detail_type, "ignored": True}
        granted = points.award_watch_times(watched.room_id, [(v.user_id, v.seconds) for v in watched.viewers])
        return {"detail_type": detail_type, "viewers": len(watched.viewers), "points": granted}
    if detail_type == "ShareArrived":          # points for a share that brought a viewer
        try:
            arrived = ShareArrived.parse(event.get("detail") or {})
        except ValidationError:
            logger.warning("a ShareArrived that is not one; ignored", extra={"event_id": event.get("id")})
            return {"detail_type": detail_type, "ignored": True}
        granted = points.award_share_arrival(arrived.room_id, arrived.sharer_id, arrived.invitee_id)
        return {"detail_type": detail_type, "points": granted}
    return {"detail_type": detail_type, "ignored": True}

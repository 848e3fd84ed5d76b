"""The media context's event consumers (the costream_events and pk_clock functions).

  RoomEnded                      -> the stage is deleted, seats closed, a PK ended
  OrderPaid                      -> a sales PK's score (each order once)
  IVS Stage Update               -> a guest who left frees their place ("Participant Left")
  IVS Composition State Change   -> the composition's state, broadcast to the room
"""
from __future__ import annotations

from typing import Any

from livecommerce.media import service
from livecommerce.orders.events import OrderPaid
from livecommerce.rooms.events import RoomEnded

ROOM_ENDED = "RoomEnded"
ORDER_PAID = "OrderPaid"
STAGE_UPDATE = "IVS Stage Update"
COMPOSITION_STATE = "IVS Composition State Change"


def handle(event: dict[str, Any]) -> str:
    detail_type = str(event.get("detail-type") or "")
    detail = event.get("detail") or {}
    if detail_type == ROOM_ENDED:
        ended = RoomEnded.parse(detail)
        return str(service.on_room_ended(ended.room_id).get("stage"))
    if detail_type == ORDER_PAID:
        paid = OrderPaid.parse(detail)
        return service.on_order_paid(paid.room_id, paid.order_id, paid.total)
    if detail_type == STAGE_UPDATE:
        if detail.get("event_name") == "Participant Left" and detail.get("participant_id"):
            return service.on_participant_left(str(detail["participant_id"]))
        return "ignored"
    if detail_type == COMPOSITION_STATE:
        resources = event.get("resources") or []
        if resources:
            return service.on_composition_state(str(resources[0]), str(detail.get("event_name") or ""))
        return "ignored"
    return "ignored"


def clock(event: dict[str, Any]) -> dict[str, Any]:
    """pk_clock: {"pk_id"} runs that PK's clock; the minute schedule finishes overdue PKs and sweeps the outbox."""
    if isinstance(event, dict) and event.get("pk_id"):
        return {"outcome": service.run_pk_clock(str(event["pk_id"]))}
    from livecommerce.media import repository  # deferred: only the minute tick sweeps

    return {"finished": service.finish_overdue_pks(), "swept": repository.sweep_outbox()}

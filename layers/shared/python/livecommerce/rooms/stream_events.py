"""IVS EventBridge events -> room lifecycle facts."""
from __future__ import annotations

from typing import Any

from livecommerce.rooms import service
from livecommerce.shared.observability import logger

STREAM_KINDS = {"Stream Start": "started", "Stream End": "ended", "Stream Failure": "failed"}


def room_id_from_channel_name(name: str | None) -> str | None:
    """Channels are named lc-<stage>-<room id> when the room is created."""
    if not name or not name.startswith("lc-"):
        return None
    parts = name.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[2] else None


def handle(event: dict[str, Any]) -> str | None:
    detail = event.get("detail") or {}
    detail_type = event.get("detail-type")
    at = str(event.get("time") or "")
    room_id = room_id_from_channel_name(detail.get("channel_name"))
    channel_arn = (event.get("resources") or [None])[0]
    if room_id is None:
        logger.warning("IVS event for a channel we did not name", extra={"channel_name": detail.get("channel_name")})
        return None
    if detail_type == "IVS Stream State Change":
        kind = STREAM_KINDS.get(detail.get("event_name"))
        if kind is None:  # Session Created/Ended and future names: nothing to do
            return None
        return service.on_stream_event(room_id, channel_arn, kind, detail.get("stream_id"), at)
    if detail_type == "IVS Recording State Change" and detail.get("recording_status") == "Recording End":
        return service.on_stream_event(room_id, channel_arn, "recording_ended", detail.get("stream_id"), at)
    return None

"""IVS EventBridge events -> room lifecycle facts.

IVS's events are not ours: `IvsEvent` reads the part of the EventBridge envelope
and of the IVS detail the lifecycle uses (unknown fields ignored, missing ones None).
"""
from __future__ import annotations

import time
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from livecommerce.rooms import lifecycle, service
from livecommerce.shared.clock import utcnow
from livecommerce.shared.observability import logger

STREAM_KINDS = {"Stream Start": "started", "Stream End": "ended", "Stream Failure": "failed"}


class IvsDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    channel_name: str | None = None
    event_name: str | None = None            # Stream Start / End / Failure, Session Created / Ended, ...
    stream_id: str | None = None
    recording_status: str | None = None      # Recording Start / End / Start Failure / End Failure


class IvsEvent(BaseModel):
    """An IVS Stream State Change or Recording State Change as EventBridge delivers it."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    detail_type: str | None = Field(default=None, alias="detail-type")
    time: Any = None
    resources: list[str] | None = None
    detail: IvsDetail | None = None

    @property
    def channel_arn(self) -> str | None:
        return (self.resources or [None])[0]


def room_id_from_channel_name(name: str | None) -> str | None:
    """Channels are named lc-<stage>-<room id> when the room is created."""
    if not name or not name.startswith("lc-"):
        return None
    parts = name.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[2] else None


def check_planned_switch(raw: object, *, sleep: Callable[[float], None] = time.sleep) -> str | None:
    """{"room_id", "at_ms"} (service.SWITCH_CHECK, asked for by a held stream end): sleep until the
    planned-switch window closes, then derive the room's status again (interrupted if nothing came back)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("room_id"), str) \
            or not isinstance(raw.get("at_ms"), int) or isinstance(raw.get("at_ms"), bool):
        logger.warning("malformed planned switch check ignored", extra={"check": str(raw)[:200]})
        return None
    wait = raw["at_ms"] / 1000 - utcnow().timestamp()
    if wait > lifecycle.PLANNED_SWITCH_SECONDS + 5:
        logger.warning("planned switch check too far ahead, ignored", extra={"check": str(raw)[:200]})
        return None
    if wait > 0:
        sleep(wait + 0.05)   # just past the window's end
    return service.check_planned_switch(raw["room_id"])


def handle(event: dict[str, Any]) -> str | None:
    if isinstance(event, dict) and service.SWITCH_CHECK in event:
        return check_planned_switch(event[service.SWITCH_CHECK])
    ivs = IvsEvent.model_validate(event)
    detail = ivs.detail or IvsDetail()
    at = str(ivs.time or "")
    room_id = room_id_from_channel_name(detail.channel_name)
    if room_id is None:
        logger.warning("IVS event for a channel we did not name", extra={"channel_name": detail.channel_name})
        return None
    if ivs.detail_type == "IVS Stream State Change":
        kind = STREAM_KINDS.get(detail.event_name or "")
        if kind is None:  # Session Created/Ended and future names: nothing to do
            return None
        return service.on_stream_event(room_id, ivs.channel_arn, kind, detail.stream_id, at)
    if ivs.detail_type == "IVS Recording State Change" and detail.recording_status == "Recording End":
        return service.on_stream_event(room_id, ivs.channel_arn, "recording_ended", detail.stream_id, at)
    return None

"""The domain events rooms emits: one model per type in spec.py `emits`.

Fields are what rooms/service.py sends. Every room event carries the room's
state after the change (`room_id`, `host_id`, `status`, `scheduled_start`,
`visibility`, `channel_arn`, which is null until the channel is provisioned);
lifecycle events add `previous_status` and `cause`, RoomUpdated adds `changed`
and `previous_scheduled_start`. Consumers parse a detail with `Model.parse(detail)`.
"""
from __future__ import annotations

from typing import Union

from pydantic import BaseModel, ConfigDict

from livecommerce.shared.events import DomainEvent


class _RoomFields(BaseModel):
    """The room as it is after the change, as every room event carries it (a field set, not an event type)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    room_id: str
    host_id: str
    status: str
    scheduled_start: str
    visibility: str
    channel_arn: str | None = None


class RoomCreated(DomainEvent, _RoomFields):
    pass


class RoomUpdated(DomainEvent, _RoomFields):
    changed: list[str]                 # the fields the host changed, sorted
    previous_scheduled_start: str


class _LifecycleFields(_RoomFields):
    """What a lifecycle event adds to the room: where it came from and why."""

    previous_status: str
    cause: str                         # host, stream_started, stream_ended, stream_failed, recording_ended


class RoomStarted(DomainEvent, _LifecycleFields):
    pass


class StreamInterrupted(DomainEvent, _LifecycleFields):
    pass


class StreamResumed(DomainEvent, _LifecycleFields):
    pass


class RoomEnded(DomainEvent, _LifecycleFields):
    pass


LifecycleEvent = Union[RoomStarted, StreamInterrupted, StreamResumed, RoomEnded]
LIFECYCLE_EVENTS: dict[str, type[DomainEvent]] = {
    model.detail_type: model for model in (RoomStarted, StreamInterrupted, StreamResumed, RoomEnded)}


class ReservationMade(DomainEvent):
    room_id: str
    viewer_id: str
    scheduled_start: str
    subscribe_message: bool
    sms: bool


class ReservationCancelled(DomainEvent):
    room_id: str
    viewer_id: str


EVENTS = (RoomCreated, RoomUpdated, ReservationMade, ReservationCancelled,
          RoomStarted, StreamInterrupted, StreamResumed, RoomEnded)

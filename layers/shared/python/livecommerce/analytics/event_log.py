"""The event log: every domain event, stored once.

EventBridge delivers at least once, so the event id is the key and a repeat
delivery is a no-op. It consumes every event type, so it reads the
EventBridge envelope (`EventEnvelope`) and, of the detail, only what every
domain event has (`Stamp`: the outbox's event id, DomainEvent.event_id) and the subject keys
(`Subject`), never a producer's own model.
"""
from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from livecommerce.analytics.spec import EVENT_LOG
from livecommerce.shared import dynamo
from livecommerce.shared.storage import Gsi1Index as BySubjectIndex

RETENTION_SECONDS = 400 * 24 * 3600  # a year of comparisons plus a margin


class EventItem(Model):
    """EVENT#<id> / EVENT; gsi1 groups by subject (room, user) in time order."""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    detail_type = UnicodeAttribute()
    source = UnicodeAttribute()
    time = UnicodeAttribute()
    detail = UnicodeAttribute()
    expires_at = NumberAttribute()
    by_subject = BySubjectIndex()


class EventEnvelope(BaseModel):
    """What EventBridge delivers, whatever the event type."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: Any = None
    detail_type: Any = Field(default="", alias="detail-type")
    source: Any = ""
    time: Any = ""
    detail: dict[str, Any] | None = None


class Stamp(BaseModel):
    """What the outbox adds to every domain event's detail (see DomainEvent.event_id)."""

    model_config = ConfigDict(extra="ignore")

    event_id: Any = None


class Subject(BaseModel):
    """The keys an event is filed under, in order of preference (room, host, user, order)."""

    model_config = ConfigDict(extra="ignore")

    room_id: Any = None
    host_id: Any = None
    user_id: Any = None
    order_id: Any = None

    def key(self) -> str | None:
        for name in ("room_id", "host_id", "user_id", "order_id"):
            value = getattr(self, name)
            if value:
                return f"{name.split('_')[0].upper()}#{value}"
        return None


def _subject(detail: dict[str, Any]) -> str | None:
    return Subject.model_validate(detail).key()


def record(event: dict[str, Any]) -> bool:
    """Store one EventBridge event; False if this event id was stored before."""
    dynamo.bind(EventItem, EVENT_LOG)
    envelope = EventEnvelope.model_validate(event)
    detail = envelope.detail or {}
    # Outbox events carry their own id, stable across republishing; EventBridge's
    # id is stable across its own redeliveries.
    event_id = Stamp.model_validate(detail).event_id or envelope.id
    if not event_id:
        raise ValueError("not an EventBridge event: no id")
    subject = _subject(detail)
    item = EventItem(f"EVENT#{event_id}", "EVENT", detail_type=str(envelope.detail_type),
                     source=str(envelope.source), time=str(envelope.time),
                     detail=json.dumps(detail, ensure_ascii=False),
                     expires_at=int(time.time()) + RETENTION_SECONDS)
    if subject:
        item.gsi1pk = subject
        item.gsi1sk = f"{item.time}#{event_id}"
    try:
        item.save(condition=EventItem.pk.does_not_exist())
    except PutError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def events_for(subject: str) -> list[dict[str, Any]]:
    """A subject's events (e.g. "HOST#host-1") in time order."""
    dynamo.bind(EventItem, EVENT_LOG)
    return [{"id": i.pk.removeprefix("EVENT#"), "detail_type": i.detail_type, "time": i.time,
             "detail": json.loads(i.detail)} for i in EventItem.by_subject.query(subject)]

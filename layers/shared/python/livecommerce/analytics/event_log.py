"""The event log: every domain event, stored once.

EventBridge delivers at least once, so the event id is the key and a repeat
delivery is a no-op.
"""
from __future__ import annotations

import json
import time
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from livecommerce.shared import dynamo
from livecommerce.shared.storage import Gsi1Index as BySubjectIndex
from livecommerce.analytics.spec import EVENT_LOG

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


def _subject(detail: dict[str, Any]) -> str | None:
    for key in ("room_id", "host_id", "user_id", "order_id"):
        if detail.get(key):
            return f"{key.split('_')[0].upper()}#{detail[key]}"
    return None


def record(event: dict[str, Any]) -> bool:
    """Store one EventBridge event; False if this event id was stored before."""
    dynamo.bind(EventItem, EVENT_LOG)
    detail = event.get("detail") or {}
    # Outbox events carry their own id, stable across republishing; EventBridge's
    # id is stable across its own redeliveries.
    event_id = detail.get("event_id") or event.get("id")
    if not event_id:
        raise ValueError("not an EventBridge event: no id")
    subject = _subject(detail)
    item = EventItem(f"EVENT#{event_id}", "EVENT", detail_type=str(event.get("detail-type", "")),
                     source=str(event.get("source", "")), time=str(event.get("time", "")),
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

"""A small transactional outbox.

A change and the domain events it causes are written in one DynamoDB
transaction (the events as OUTBOX# items under the aggregate's key); the
events are then put on the bus and their items deleted. A crash in between
leaves them in place, and the next flush of that aggregate (the retried
delivery, or the next request touching it) publishes them. Delivery is at
least once: each event carries `event_id` so consumers can drop repeats.
"""
from __future__ import annotations

import time
from typing import Any

from livecommerce.shared import events
from livecommerce.shared.clock import now_iso
from livecommerce.shared.ids import new_ulid

OUTBOX_TTL_SECONDS = 7 * 24 * 3600  # a forgotten item is kept a week for inspection


def new_item(model: Any, pk: str, detail_type: str, detail: dict[str, Any]) -> Any:
    event_id = new_ulid()
    return model(pk, f"OUTBOX#{event_id}", detail_type=detail_type,
                 detail={**detail, "event_id": event_id}, created_at=now_iso(),
                 expires_at=int(time.time()) + OUTBOX_TTL_SECONDS)


def flush(model: Any, pk: str) -> int:
    """Publish and delete every pending event of one aggregate, oldest first."""
    published = 0
    for item in model.query(pk, model.sk.startswith("OUTBOX#"), consistent_read=True):
        events.publish(item.detail_type, item.detail)
        item.delete()
        published += 1
    return published

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
from datetime import datetime, timezone
from typing import Any

from livecommerce.shared import events
from livecommerce.shared.clock import now_iso
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger

OUTBOX_TTL_SECONDS = 7 * 24 * 3600  # a forgotten item is kept a week for inspection


PENDING = "OUTBOX#pending"  # gsi1 partition listing every pending event, for the sweeper


def new_item(model: Any, pk: str, detail_type: str, detail: dict[str, Any]) -> Any:
    event_id = new_ulid()
    created = now_iso()
    return model(pk, f"OUTBOX#{event_id}", detail_type=detail_type,
                 detail={**detail, "event_id": event_id}, created_at=created,
                 expires_at=int(time.time()) + OUTBOX_TTL_SECONDS,
                 gsi1pk=PENDING, gsi1sk=f"{created}#{pk}#{event_id}")


def flush(model: Any, pk: str) -> int:
    """Publish and delete every pending event of one aggregate, oldest first.

    A failure to publish leaves the rest in place for the next flush or the
    sweeper; the change that caused them is already committed, so the caller
    does not fail."""
    published = 0
    try:
        for item in model.query(pk, model.sk.startswith("OUTBOX#"), consistent_read=True):
            events.publish(item.detail_type, item.detail)
            item.delete()
            published += 1
    except Exception:  # noqa: BLE001 - logged; the sweeper retries
        logger.exception("outbox flush interrupted; events stay queued", extra={"aggregate": pk})
    return published


def sweep(model: Any, index: Any, *, older_than_seconds: int = 30, limit: int = 200) -> int:
    """Flush aggregates whose events have waited too long (a crash between commit and publish)."""
    cutoff = datetime.fromtimestamp(time.time() - older_than_seconds, timezone.utc).isoformat().replace("+00:00", "Z")
    aggregates: list[str] = []
    for item in index.query(PENDING, model.gsi1sk < cutoff, limit=limit):
        if item.pk not in aggregates:
            aggregates.append(item.pk)
    return sum(flush(model, pk) for pk in aggregates)

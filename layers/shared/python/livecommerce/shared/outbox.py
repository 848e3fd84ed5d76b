"""The transactional outbox every context uses.

A change and the domain events it causes are written in one DynamoDB
transaction (the events as OUTBOX# items under the aggregate's key); the
events are then put on the bus and their items deleted. A crash in between
leaves them in place, and the next flush of that aggregate (the retried
delivery, or the next request touching it) publishes them, or the sweeper
does. Delivery is at least once: each event carries `event_id` so consumers
can drop repeats.

Pending events are listed on gsi1 for the sweeper. One index partition takes
about 1,000 writes a second (each event is written to it when created and
again when deleted), so a table whose aggregates publish fast (a flash sale
writes an OrderCreated per order) spreads its pending events over `shards`
partitions (`OUTBOX#pending#<0..n-1>`, by a hash of the aggregate key); a
table with one partition uses `OUTBOX#pending`.
"""
from __future__ import annotations

import zlib
from datetime import timedelta
from typing import Any, Callable, Iterable, Union

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from livecommerce.shared import events
from livecommerce.shared.clock import iso, utcnow
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger
from livecommerce.shared.storage import Gsi1Index, KeyedItem

OUTBOX_TTL_SECONDS = 7 * 24 * 3600  # a forgotten item is kept a week for inspection
PENDING = "OUTBOX#pending"  # gsi1 partition (or prefix, when sharded) listing pending events

# An event to write: a typed domain event, or (detail type, detail) for events not yet typed.
Event = Union[events.DomainEvent, tuple[str, dict[str, Any]]]


class OutboxItem(KeyedItem):
    """A pending domain event under its aggregate's key (pk, sk = OUTBOX#<event id>)."""

    class Meta:
        table_name = "unbound"

    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    pending = Gsi1Index()
    detail_type = UnicodeAttribute()
    detail = JSONAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()


def shard_of(value: str, shards: int) -> int:
    return zlib.crc32(value.encode("utf-8")) % shards


def _detail_of(event: Event) -> tuple[str, dict[str, Any]]:
    if isinstance(event, events.DomainEvent):
        return event.detail_type, event.detail()
    return event


class Outbox:
    """One table's outbox: its item class (bound to the table by the context's
    storage module, like its other items) and how many pending partitions it uses."""

    def __init__(self, model: type[OutboxItem], *, shards: int = 1,
                 bind: Callable[[], None] | None = None) -> None:
        """`bind`: points the context's models at its table (storage.bind_all), run before each use."""
        self.model = model
        self.shards = shards
        self._bind = bind or (lambda: None)

    def _pending_partition(self, pk: str) -> str:
        return PENDING if self.shards == 1 else f"{PENDING}#{shard_of(pk, self.shards)}"

    def partitions(self) -> list[str]:
        return [PENDING] if self.shards == 1 else [f"{PENDING}#{shard}" for shard in range(self.shards)]

    def item(self, pk: str, event: Event) -> OutboxItem:
        detail_type, detail = _detail_of(event)
        event_id = new_ulid()
        now = utcnow()
        created = iso(now)
        return self.model(pk, f"OUTBOX#{event_id}", detail_type=detail_type,
                          detail={**detail, "event_id": event_id}, created_at=created,
                          expires_at=int(now.timestamp()) + OUTBOX_TTL_SECONDS,
                          gsi1pk=self._pending_partition(pk), gsi1sk=f"{created}#{pk}#{event_id}")

    def items(self, pk: str, events_: Iterable[Event]) -> list[OutboxItem]:
        self._bind()
        return [self.item(pk, event) for event in events_]

    def flush(self, pk: str) -> int:
        """Publish and delete every pending event of one aggregate, oldest first.

        A failure to publish leaves the rest in place for the next flush or the
        sweeper; the change that caused them is already committed, so the caller
        does not fail."""
        self._bind()
        model = self.model
        try:
            pending = list(model.query(pk, model.sk.startswith("OUTBOX#"), consistent_read=True))
        except Exception:  # noqa: BLE001 - logged; the sweeper retries
            logger.exception("outbox read failed; events stay queued", extra={"aggregate": pk})
            return 0
        return _publish_and_delete(pk, pending)

    def flush_items(self, pk: str, items: list[OutboxItem]) -> int:
        """Publish and delete events we just wrote, without reading them back (one query fewer on a
        hot path). Only for an aggregate created in the same transaction: no older event can be
        waiting under it. On any failure the rest stay for the next flush or the sweeper."""
        self._bind()
        return _publish_and_delete(pk, sorted(items, key=lambda i: i.sk))

    def sweep(self, *, older_than_seconds: int = 30, limit: int = 200) -> int:
        """Publish events stranded by a crash between commit and flush, across every partition."""
        self._bind()
        # The same clock as `created_at`, so a test that moves the clock ages the events.
        cutoff = iso(utcnow() - timedelta(seconds=older_than_seconds))
        published = 0
        for partition in self.partitions():
            aggregates: list[str] = []
            for item in self.model.pending.query(partition, self.model.gsi1sk < cutoff, limit=limit):
                if item.pk not in aggregates:
                    aggregates.append(item.pk)
            published += sum(self.flush(pk) for pk in aggregates)
        return published


def _publish_and_delete(pk: str, items: Iterable[OutboxItem]) -> int:
    """Publish the events in as few bus calls as it allows (EventBridge: one PutEvents per 10) and
    delete the items of those the bus took in one BatchWriteItem (per 25); an event the bus refused
    (a partial PutEvents failure) keeps its item for the next flush or the sweeper. Returns how many
    were published and deleted."""
    items = list(items)
    if not items:
        return 0
    # occurred_at: when the change was committed with the event (the item's created_at), not
    # when a flush or the sweeper got it onto the bus, so a late delivery keeps its moment.
    entries = []
    for item in items:
        occurred = item.created_at.replace("Z", "+00:00") if item.created_at else None
        entries.append((item.detail_type, {**item.detail, **({"occurred_at": occurred} if occurred else {})}))
    try:
        taken = events.publish_many(entries)
    except Exception:  # noqa: BLE001 - logged; the sweeper retries
        logger.exception("outbox flush interrupted; events stay queued", extra={"aggregate": pk})
        return 0
    published = [item for item, ok in zip(items, taken) if ok]
    if len(published) < len(items):
        logger.warning("outbox: the bus refused some events; they stay queued",
                       extra={"aggregate": pk, "refused": len(items) - len(published)})
    try:
        if len(published) == 1:
            published[0].delete()
        elif published:
            model = type(published[0])
            for start in range(0, len(published), 25):   # BatchWriteItem takes 25 requests
                with model.batch_write() as batch:
                    for item in published[start:start + 25]:
                        batch.delete(item)
    except Exception:  # noqa: BLE001 - published but kept: the sweeper publishes them again (at least once)
        logger.exception("outbox delete failed; published events stay queued", extra={"aggregate": pk})
        return 0
    return len(published)

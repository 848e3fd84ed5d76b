"""The rooms that presented each product (analytics.product_rooms), kept in the event log table.

  PRODUCT#<product_id>   PRESENTED#<host_id>#<room_id>   room_id, host_id, product_id

Written by the domain-event consumer (functions/domain_events) on RoomProductsPreset, ProductListed
and FlashSaleScheduled: a put of the same item each time, so EventBridge's repeat deliveries and
re-listings change nothing; and by the post-live report when the room ends (post_live.on_room_ended:
every product with figures in the session, so a session is indexed even if its presenting event
never reached the consumer). Items do not expire (one small item per product and room). Read one
page at a time: a host's own rooms (begins_with PRESENTED#<host>#) or, for an operator, every room.
`backfill` indexes the presenting events already in the event log (scripts/backfill_product_rooms.py:
once, after deploying the index onto a table with history).
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from livecommerce import rooms
from livecommerce.analytics import product_rooms
from livecommerce.analytics.event_log import EventEnvelope, EventItem
from livecommerce.analytics.spec import EVENT_LOG
from livecommerce.shared import dynamo, paging

LISTING = paging.listing("product_rooms", key_attributes=("pk", "sk"), partition_attribute="pk")


class ProductRoomItem(Model):
    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    product_id = UnicodeAttribute()
    room_id = UnicodeAttribute()
    host_id = UnicodeAttribute()


def partition(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def _bind() -> None:
    dynamo.bind(ProductRoomItem, EVENT_LOG)


def record_pairs(pairs: Iterable[tuple[str, str]]) -> int:
    """Index (room_id, product_id) pairs; a room that does not exist is skipped. Returns how many
    items were written."""
    _bind()
    hosts: dict[str, str | None] = {}
    items = []
    for room_id, product_id in dict.fromkeys(pairs):
        if room_id not in hosts:
            room = rooms.get_room(room_id)
            hosts[room_id] = room.host_id if room is not None else None
        host_id = hosts[room_id]
        if host_id is None:
            continue
        items.append(ProductRoomItem(partition(product_id), product_rooms.sort_key(host_id, room_id),
                                     product_id=product_id, room_id=room_id, host_id=host_id))
    if items:
        with ProductRoomItem.batch_write() as batch:
            for item in items:
                batch.save(item)
    return len(items)


def record(event: dict[str, Any]) -> int:
    """Index what one EventBridge event presented (0 for any other event)."""
    envelope = EventEnvelope.model_validate(event)
    return record_pairs(product_rooms.presentations(str(envelope.detail_type), envelope.detail))


def _query(product_id: str, user_id: str, roles: frozenset[str], limit: int,
           start: dict[str, Any] | None) -> tuple[list[str], dict[str, Any] | None]:
    pk = partition(product_id)
    query = ProductRoomItem.query(pk, ProductRoomItem.sk.startswith(product_rooms.scope_prefix(user_id, roles)),
                                  limit=limit + 1, last_evaluated_key=start)
    items = list(query)
    more = len(items) > limit
    items = items[:limit]
    next_key = {"pk": {"S": pk}, "sk": {"S": items[-1].sk}} if more else None
    operator = "operator" in roles       # a host's prefix could also match a host id extended by '#': check
    return [i.room_id for i in items if operator or i.host_id == user_id], next_key


def page(product_id: str, *, user_id: str, roles: frozenset[str], limit: int,
         cursor: str | None) -> tuple[list[str], str | None]:
    """One page of the rooms (ids) whose sessions of the product the caller may read, and the
    cursor of the next page (None at the end). The cursor is bound to the product and the caller
    (422 invalid_cursor otherwise)."""
    _bind()
    pk = partition(product_id)
    start = paging.decode(cursor, LISTING, partition=pk, owner=user_id)
    room_ids, next_key = _query(product_id, user_id, roles, limit, start)
    return room_ids, paging.encode(next_key, LISTING, partition=pk, owner=user_id)


def all_rooms(product_id: str, *, user_id: str, roles: frozenset[str], page_size: int) -> Iterable[list[str]]:
    """Every room of the product the caller may read, `page_size` at a time (no page left out)."""
    _bind()
    start: dict[str, Any] | None = None
    while True:
        room_ids, start = _query(product_id, user_id, roles, page_size, start)
        if room_ids:
            yield room_ids
        if start is None:
            return


def backfill() -> int:
    """Index the presenting events already in the event log (a scan: run once, after the deploy
    that adds the index). Returns how many index items were written."""
    dynamo.bind(EventItem, EVENT_LOG)
    written = 0
    for item in EventItem.scan(EventItem.detail_type.is_in(*product_rooms.PRESENTING_EVENTS)):
        written += record_pairs(product_rooms.presentations(item.detail_type, json.loads(item.detail)))
    return written

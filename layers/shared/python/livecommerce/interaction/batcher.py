"""The realtime batcher: room channel publishes that wait for a slot.

- Flush requests ({"flush": {"gate": "danmaku", "room_id", "not_before_ms"}},
  asynchronous invocations from the API function, see feed and
  flush_requests): publish the room's waiting danmaku at that slot, as its
  trailing publisher.
- The interaction table's DynamoDB stream (interaction.spec (stream consumers)):
  like counter changes of a room -> its exact total (sum of the shards, read
  after the changes) on the room's `events` topic, at most once a second.
  Every change is a stream record, so the last total is always published.
- The same stream (the StoreFacts consumer): per-user like counter changes and stored
  messages -> like and danmaku facts in the analytics store, one PutRecordBatch per batch
  (interaction.store_facts; a failed put fails the batch, which the stream retries).
"""
from __future__ import annotations

from typing import Any

from livecommerce import analytics
from livecommerce.interaction import delivery, feed, gates, repository, room_state, store_facts, topics
from livecommerce.interaction.realtime import publish
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.shared.observability import logger

# A flush is asked for the next slot (at most one interval ahead); anything further is not ours.
MAX_FLUSH_LEAD_MS = 5000


def _value(attr: dict[str, Any]) -> Any:
    """A DynamoDB stream attribute value as Python (the types we store)."""
    (kind, raw), = attr.items()
    if kind == "S":
        return raw
    if kind == "N":
        number = float(raw)
        return int(number) if number.is_integer() else number
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: _value(v) for k, v in raw.items()}
    if kind == "L":
        return [_value(v) for v in raw]
    return raw


def image(record: dict[str, Any], which: str = "NewImage") -> dict[str, Any]:
    return {k: _value(v) for k, v in ((record.get("dynamodb") or {}).get(which) or {}).items()}


def publish_like_total(room_id: str) -> int | None:
    """The room's exact like total on its events topic (and as its retained state), at most once per
    LIKE_BROADCAST_INTERVAL_MS. Not in poll mode: there the feed carries the total
    (GET /v1/rooms/{room_id}/feed), and a push would be one IoT Core delivery per viewer a second,
    the cost poll mode removes (likes have no private echo to keep: the liker's POST answer says what
    was accepted). None when nothing was published."""
    if feed.room_mode(room_id) == delivery.POLL:
        return None
    cfg = get_interaction_settings()
    slot = gates.wait_for_slot(room_id, "likes", cfg.like_broadcast_interval_ms)
    if slot is None:
        raise RuntimeError(f"no like slot for room {room_id}; retried")
    total = repository.like_total(room_id)  # read after every change this invocation carries
    publish(topics.events_topic(cfg.stage, room_id),
            {"type": "likes", "room_id": room_id, "total": total, "at": slot}, qos=0)
    room_state.set_state(room_id, "likes", {"type": "likes", "total": total, "at": slot})   # late joiners
    return total


def handle(event: dict[str, Any]) -> dict[str, int]:
    batches = likes = 0
    request = event.get("flush")
    if isinstance(request, dict):
        room_id, at = request.get("room_id"), request.get("not_before_ms")
        if request.get("gate") != feed.DANMAKU_GATE or not isinstance(room_id, str) \
                or not topics.ROOM_ID.match(room_id) or not isinstance(at, int) \
                or at - gates.now_ms() > MAX_FLUSH_LEAD_MS:
            logger.warning("malformed flush request ignored", extra={"request": str(request)[:200]})
            return {"batches": 0, "like_broadcasts": 0, "store_facts": 0}
        plan = feed.flush(room_id, at)
        if plan is not None:
            batches += 1
            logger.debug("danmaku batch", extra={"room_id": room_id, "entries": len(plan.entries),
                                                 "dropped": plan.dropped})
    like_rooms: list[str] = []
    for record in event.get("Records") or []:
        pk = str(image(record, "Keys").get("pk", ""))
        if pk.startswith("LIKES#") and record.get("eventName") in ("INSERT", "MODIFY"):
            room_id = pk.split("#")[1]
            if room_id not in like_rooms:
                like_rooms.append(room_id)
    for room_id in like_rooms:
        if publish_like_total(room_id) is not None:
            likes += 1
    facts = store_facts.facts(event.get("Records") or [], now_ms=gates.now_ms())
    if facts:
        analytics.record_facts(facts)
    return {"batches": batches, "like_broadcasts": likes, "store_facts": len(facts)}

"""The realtime batcher: room channel publishes that wait for a slot.

- Flush requests ({"flush": {"gate": "danmaku", "room_id", "not_before_ms"}},
  asynchronous invocations from the API function, see feed and
  flush_requests): publish the room's waiting danmaku at that slot, as its
  trailing publisher.
- The interaction table's DynamoDB stream (interaction.spec (stream consumers)):
  like counter changes of a room -> its exact total (sum of the shards, read
  after the changes), recorded on the danmaku gate for the next batch to carry,
  or as a separate like message (retained state/likes) when nothing went out
  for LIKE_BROADCAST_INTERVAL_MS (density.simulate_push). Every change is a
  stream record, so the last total is always delivered.
- Like total checks ({"flush": {"gate": "likes_check", ...}}): the total is
  still undelivered at that time: send it as a like message.
- The same stream (the StoreFacts consumer): per-user like counter changes and stored
  messages -> like and danmaku facts in the analytics store, one PutRecordBatch per batch
  (interaction.store_facts; a failed put fails the batch, which the stream retries).
"""
from __future__ import annotations

from typing import Any

from livecommerce import analytics
from livecommerce.interaction import delivery, density, feed, flush_requests, gates, repository, store_facts, topics
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.shared.observability import logger

# A flush is asked for the next slot (at most one interval ahead); anything further is not ours.
MAX_FLUSH_LEAD_MS = 5000
# A like total check looks again after each batch at most this many times (each batch carries it).
MAX_LIKE_CHECKS = 5


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
    """A push-mode room's like total, read exactly (the sum of the shards, after every change this
    invocation carries) and recorded on the room's danmaku gate, whose next batch carries it
    (`likes_total` on the batch: no separate delivery while batches go out). A separate like message
    (the retained state/likes, one delivery per viewer) only when nothing went out for
    LIKE_BROADCAST_INTERVAL_MS (density.like_message_due); otherwise a check is asked for that much
    later (an asynchronous invocation of this function, `likes_check`) in case no batch carries it.
    Not in poll mode: there the feed carries the total (GET /v1/rooms/{room_id}/feed). Returns the
    total when a like message went out, else None."""
    if feed.room_mode(room_id) == delivery.POLL:
        return None
    idle = get_interaction_settings().like_broadcast_interval_ms
    total = repository.like_total(room_id)
    noted = repository.note_likes(room_id, feed.DANMAKU_GATE, total)
    if not noted.recorded:
        return None                    # this total or a higher one is recorded: its recorder delivers it
    now = gates.now_ms()
    if density.like_message_due(noted.last_ms, now, idle) \
            and repository.send_likes(room_id, feed.DANMAKU_GATE, total, now_ms=now, idle_ms=idle):
        feed._publish_likes_only(room_id, total, now)
        return total
    until = now + idle
    if repository.claim_likes_check(room_id, feed.DANMAKU_GATE, now_ms=now, until_ms=until) \
            and not flush_requests.request_likes_check(room_id, until):
        return check_likes(room_id, until)     # nobody else will: wait for it here
    return None


def check_likes(room_id: str, not_before_ms: int) -> int | None:
    """At `not_before_ms`: if the recorded like total is still undelivered (no batch went out since it
    was recorded), send it as a like message once due, looking again LIKE_BROADCAST_INTERVAL_MS after
    the last delivery while batches keep going out (each of which carries it, so this ends). The
    total sent, or None."""
    idle = get_interaction_settings().like_broadcast_interval_ms
    gates.sleep_ms(not_before_ms - gates.now_ms())
    for _ in range(MAX_LIKE_CHECKS):
        if feed.room_mode(room_id) == delivery.POLL:
            return None
        gate = repository.read_gate(room_id, feed.DANMAKU_GATE)
        total = int(gate.likes_total or 0) if gate is not None else 0
        if gate is None or total <= int(gate.likes_sent or 0):
            return None                # a batch (or another like message) carried it
        now = gates.now_ms()
        last = int(gate.last_ms) if gate.last_ms is not None else None
        if density.like_message_due(last, now, idle):
            if repository.send_likes(room_id, feed.DANMAKU_GATE, total, now_ms=now, idle_ms=idle):
                feed._publish_likes_only(room_id, total, now)
                return total
            continue                   # something went out meanwhile: read again
        gates.sleep_ms(last + idle - now)
    logger.warning("like total check gave up", extra={"room_id": room_id})
    return None


def handle(event: dict[str, Any]) -> dict[str, int]:
    batches = likes = 0
    request = event.get("flush")
    if isinstance(request, dict):
        room_id, at = request.get("room_id"), request.get("not_before_ms")
        if request.get("gate") not in (feed.DANMAKU_GATE, flush_requests.LIKES_CHECK) \
                or not isinstance(room_id, str) or not topics.ROOM_ID.match(room_id) or not isinstance(at, int) \
                or at - gates.now_ms() > MAX_FLUSH_LEAD_MS:
            logger.warning("malformed flush request ignored", extra={"request": str(request)[:200]})
            return {"batches": 0, "like_broadcasts": 0, "store_facts": 0}
        if request["gate"] == flush_requests.LIKES_CHECK:
            sent = check_likes(room_id, at)
            return {"batches": 0, "like_broadcasts": int(sent is not None), "store_facts": 0}
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

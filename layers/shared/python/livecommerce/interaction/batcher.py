"""The realtime batcher: the interaction table's DynamoDB stream in, room
channel publishes out (see interaction_wiring.STREAM_CONSUMERS).

- New danmaku of a room -> one sampled batch (density.plan_batch) on the
  room's `danmaku` topic, at most one every DANMAKU_BATCH_INTERVAL_MS per room.
  Several invocations run at once for a busy room (write shards x
  parallelization factor): each adds its pre-sampled share to the room's gate
  item; whoever takes the publish slot takes every share waiting there and
  publishes one batch; if the slot is closed, one invocation waits for it as
  the trailing publisher and the others return at once. So every message goes
  out in the next slot, not after a queue of invocations.
- Like counter changes of a room -> its exact total (sum of the shards, read
  after the changes) on the room's `events` topic, at most once a second.
  Every change is a stream record, so the last total is always published.
"""
from __future__ import annotations

import random
from collections import defaultdict
from typing import Any, Iterable

from livecommerce.interaction import gates, repository, topics
from livecommerce.interaction.density import BatchPlan, Candidate, plan_batch, presample
from livecommerce.interaction.realtime import publish
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.shared.observability import logger

_rng = random.Random()
DANMAKU_GATE = "danmaku"


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


def _candidate(item: dict[str, Any]) -> Candidate | None:
    reply = item.get("reply_to")
    if isinstance(reply, str):  # JSONAttribute stores a JSON string
        import json

        reply = json.loads(reply)
    try:
        return Candidate(id=item["message_id"], user_id=item["user_id"], text=item["text"],
                         at_ms=int(item.get("at_ms") or 0), priority=bool(item.get("priority")),
                         nickname=item.get("nickname"), reply_to=reply)
    except KeyError:
        return None


def batch_message(room_id: str, plan: BatchPlan, at_ms: int) -> dict[str, Any]:
    items = []
    for entry in plan.entries:
        m = entry.message
        item: dict[str, Any] = {"id": m.id, "user_id": m.user_id, "text": m.text}
        if m.nickname:
            item["nickname"] = m.nickname
        if m.priority:
            item["host"] = True
        if m.reply_to:
            item["reply_to"] = m.reply_to
        if entry.count > 1:
            item["count"] = entry.count
        items.append(item)
    return {"type": "danmaku", "room_id": room_id, "at": at_ms, "items": items, "dropped": plan.dropped}


def _share(candidates: list[Candidate], dropped: int) -> dict[str, Any]:
    return {"dropped": dropped, "candidates": [
        {"id": c.id, "user_id": c.user_id, "text": c.text, "at_ms": c.at_ms, "priority": c.priority,
         "nickname": c.nickname, "reply_to": c.reply_to, "weight": c.weight} for c in candidates]}


def _unshare(shares: list[dict[str, Any]]) -> tuple[list[Candidate], int]:
    found: list[Candidate] = []
    dropped = 0
    for share in shares:
        dropped += int(share.get("dropped") or 0)
        found.extend(Candidate(**c) for c in share.get("candidates") or [])
    return found, dropped


def publish_danmaku(room_id: str, candidates: Iterable[Candidate]) -> BatchPlan | None:
    """Hand this invocation's share to the room's next batch; publish it if we get the slot."""
    cfg = get_interaction_settings()
    kept, dropped = presample(candidates, max_messages=cfg.batch_max_messages, rng=_rng)
    if not kept:
        return None
    repository.enqueue(room_id, DANMAKU_GATE, [_share(kept, dropped)])
    published: BatchPlan | None = None
    for _ in range(gates.MAX_WAITS):
        at = gates.now_ms()
        taken, shares = repository.take_queue(room_id, DANMAKU_GATE, now_ms=at, interval_ms=cfg.batch_interval_ms)
        if taken:
            if shares:
                merged, earlier_dropped = _unshare(shares)
                plan = plan_batch(merged, max_messages=cfg.batch_max_messages, rng=_rng)
                plan = BatchPlan(entries=plan.entries, dropped=plan.dropped + earlier_dropped,
                                 received=plan.received + earlier_dropped)
                publish(topics.danmaku_topic(cfg.stage, room_id), batch_message(room_id, plan, at), qos=0)
                published = plan
            return published
        gate = repository.read_gate(room_id, DANMAKU_GATE)
        if gate is None or not gate.cards:
            return None  # a publisher took our share with theirs
        until = int(gate.last_ms or 0) + cfg.batch_interval_ms
        if not repository.claim_trailing(room_id, DANMAKU_GATE, until_ms=until):
            return None  # the trailing publisher of this slot takes it
        gates.sleep_ms(until - gates.now_ms())
    raise RuntimeError(f"no danmaku slot for room {room_id}; the batch is retried")


def publish_like_total(room_id: str) -> int:
    cfg = get_interaction_settings()
    slot = gates.wait_for_slot(room_id, "likes", cfg.like_broadcast_interval_ms)
    if slot is None:
        raise RuntimeError(f"no like slot for room {room_id}; retried")
    total = repository.like_total(room_id)  # read after every change this invocation carries
    publish(topics.events_topic(cfg.stage, room_id),
            {"type": "likes", "room_id": room_id, "total": total, "at": slot}, qos=0)
    return total


def handle(event: dict[str, Any]) -> dict[str, int]:
    danmaku: dict[str, list[Candidate]] = defaultdict(list)
    like_rooms: list[str] = []
    for record in event.get("Records") or []:
        keys = image(record, "Keys")
        pk, sk = str(keys.get("pk", "")), str(keys.get("sk", ""))
        if sk.startswith("MSG#") and record.get("eventName") == "INSERT":
            candidate = _candidate(image(record))
            if candidate is not None:
                danmaku[pk.split("#")[1]].append(candidate)
        elif pk.startswith("LIKES#") and record.get("eventName") in ("INSERT", "MODIFY"):
            room_id = pk.split("#")[1]
            if room_id not in like_rooms:
                like_rooms.append(room_id)
    batches = likes = 0
    for room_id, candidates in danmaku.items():
        plan = publish_danmaku(room_id, candidates)
        if plan is not None:
            batches += 1
            logger.debug("danmaku batch", extra={"room_id": room_id, "entries": len(plan.entries),
                                                 "dropped": plan.dropped})
    for room_id in like_rooms:
        publish_like_total(room_id)
        likes += 1
    return {"batches": batches, "like_broadcasts": likes}

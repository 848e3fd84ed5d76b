"""The danmaku feed: from an accepted message to the room's batches.

The API function that accepts a message offers it to the room's gate item
straight away (one conditional write), instead of leaving it to the table's
stream: a stream hop costs a poll interval or more, and the batch interval
(200 ms) already takes most of a quarter-second budget.

- The slot is open (nothing published for DANMAKU_BATCH_INTERVAL_MS): the
  offering call takes the slot and every waiting entry and publishes one
  batch (density.plan_batch) on the room's `danmaku` topic.
- The slot is closed: the entry waits in the queue. The first caller to find
  nobody waiting for the next slot claims it and asks for a flush at that time
  (flush_requests: an asynchronous invocation of the realtime batcher), so a
  burst's last messages go out in the next slot, not with the next message.
  In a busy room the next message usually takes the slot first.
- Crowded rooms: non-priority messages are offered with a probability that
  keeps the gate item small (density.Admission); host messages always are.

A crash between storing and offering leaves the message stored (replay,
lotteries) but not shown in a batch; the sender saw it on their private topic.
"""
from __future__ import annotations

import random
import threading
from typing import Any, Iterable

from livecommerce.interaction import delivery, flush_requests, gates, repository, room_state, topics
from livecommerce.interaction.density import Admission, BatchPlan, Candidate, plan_batch, weight_for
from livecommerce.interaction.realtime import PublishFailed, publish
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.shared.observability import logger

DANMAKU_GATE = "danmaku"
# Offers a batch slot aims at (the gate's queue is capped at twice that).
OFFERS_PER_SLOT = 30

# Drawn from the OS for each call, so environments restored from one SnapStart snapshot do not share
# a sampling sequence (a Random seeded at init would be copied into every one of them).
_rng = random.SystemRandom()
_lock = threading.Lock()
_admission = Admission(target_per_slot=OFFERS_PER_SLOT)


def reset() -> None:
    global _admission
    with _lock:
        _admission = Admission(target_per_slot=OFFERS_PER_SLOT)


def _entry(c: Candidate) -> dict[str, Any]:
    entry = {"id": c.id, "user_id": c.user_id, "text": c.text, "at_ms": c.at_ms, "priority": c.priority,
             "nickname": c.nickname, "reply_to": c.reply_to, "weight": c.weight}
    return {k: v for k, v in entry.items() if v is not None and v is not False and not (k == "weight" and v == 1)}


def _candidates(entries: Iterable[dict[str, Any]]) -> list[Candidate]:
    found = []
    for e in entries:
        try:
            found.append(Candidate(id=e["id"], user_id=e["user_id"], text=e["text"], at_ms=int(e.get("at_ms") or 0),
                                   priority=bool(e.get("priority")), nickname=e.get("nickname"),
                                   reply_to=e.get("reply_to"), weight=int(e.get("weight") or 1)))
        except (KeyError, TypeError, ValueError):
            logger.warning("unreadable danmaku gate entry dropped")
    return found


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


def room_mode(room_id: str) -> str:
    """push or poll now: the room's explicit setting, else the audience rule's last switch
    (interaction.delivery.effective), from the room's settings item (cached 5 s per container)."""
    item = repository.get_room_settings(room_id)
    return delivery.effective(item.delivery if item else None, item.audience_mode if item else None)


def _publish(room_id: str, entries: list[dict[str, Any]], at_ms: int, likes_total: int | None = None,
             likes_new: bool = False) -> BatchPlan | None:
    candidates = _candidates(entries)
    if not candidates:
        if likes_new:
            # The slot was taken with an empty queue (another caller took the entries first) and the
            # take marked a new like total sent: it goes out on its own in this slot, not lost.
            _publish_likes_only(room_id, likes_total, at_ms)
        return None
    cfg = get_interaction_settings()
    plan = plan_batch(candidates, max_messages=cfg.batch_max_messages, rng=_rng)
    message = batch_message(room_id, plan, at_ms)
    if likes_total is not None:
        # The room's like total rides on the batch (push mode: no separate like delivery while
        # batches go out; density.simulate_push). Poll mode's feed answers carry it anyway.
        message["likes_total"] = likes_total
    if room_mode(room_id) == delivery.POLL:
        # Poll mode: the batch becomes the room's next feed page, read from the edge
        # (GET /v1/rooms/{room_id}/feed), not one IoT Core delivery per viewer.
        repository.put_feed_page(room_id, message, at_ms)
        return plan
    try:
        publish(topics.danmaku_topic(cfg.stage, room_id), message, qos=0)
    except PublishFailed:
        # QoS 0 on IoT Core too: a lost batch is not re-sent (the next one is 200 ms away).
        logger.warning("danmaku batch not published", extra={"room_id": room_id, "entries": len(plan.entries)})
        return None
    return plan


def likes_message(room_id: str, total: int, at_ms: int) -> dict[str, Any]:
    return {"type": "likes", "room_id": room_id, "total": int(total), "at": int(at_ms)}


def _publish_likes_only(room_id: str, total: int | None, at_ms: int) -> None:
    """A separate like message: the room's retained like total (state/likes), which every viewer
    subscribed to state/+ receives now and a late joiner on subscribing. One delivery per viewer."""
    if total is None or room_mode(room_id) == delivery.POLL:
        return
    room_state.set_state(room_id, "likes", likes_message(room_id, total, at_ms))


def offer(room_id: str, candidate: Candidate) -> BatchPlan | None:
    """Offer an accepted message to the room's next batch; the batch if this call published it."""
    cfg = get_interaction_settings()
    interval = cfg.batch_interval_ms
    now = gates.now_ms()
    admission = _admission
    chance = 1.0
    if not candidate.priority:
        with _lock:
            chance = admission.chance(room_id, now)
        if chance < 1.0 and _rng.random() >= chance:
            return None                      # sampled away before it costs a write
        if chance < 1.0:
            candidate = Candidate(**{**candidate.__dict__, "weight": weight_for(chance, _rng)})
    offered = repository.offer(room_id, DANMAKU_GATE, _entry(candidate),
                               cap=None if candidate.priority else 2 * OFFERS_PER_SLOT)
    if not offered.accepted:
        return None
    with _lock:
        admission.observe(room_id, queued=offered.queued, chance=chance, now_ms=now)
    last = offered.last_ms
    if last is None or gates.now_ms() >= last + interval:
        at = gates.now_ms()
        taken, entries, likes, new = repository.take_batch(room_id, DANMAKU_GATE, now_ms=at, interval_ms=interval)
        return _publish(room_id, entries, at, likes, new) if taken else None
    until = last + interval
    if (offered.trailing_ms is None or offered.trailing_ms < until) \
            and repository.claim_trailing(room_id, DANMAKU_GATE, until_ms=until):
        if not flush_requests.request_flush(room_id, until):
            return flush(room_id, until)      # nobody else will: wait for the slot here
    return None


def flush(room_id: str, not_before_ms: int) -> BatchPlan | None:
    """Publish what waits in the room's queue at the slot that opens at `not_before_ms`
    (the trailing publisher). Returns None when another caller took it first."""
    interval = get_interaction_settings().batch_interval_ms
    gates.sleep_ms(not_before_ms - gates.now_ms())

    def take(at: int) -> tuple[bool, BatchPlan | None]:
        taken, entries, likes, new = repository.take_batch(room_id, DANMAKU_GATE, now_ms=at, interval_ms=interval)
        return taken, (_publish(room_id, entries, at, likes, new) if taken else None)

    waited = gates.wait_for_trailing(room_id, DANMAKU_GATE, interval, take, waiting="cards")
    if waited.taken or waited.left:
        return waited.value
    raise RuntimeError(f"no danmaku slot for room {room_id}")

"""Density control (pure): what a viewer gets, whatever the room's send rate.

Fan-out is one IoT publish per batch on the room's `danmaku` topic, so every
viewer of a room receives the same batches. A room gets at most one batch
every `interval_ms` (200 ms: at most 5 a second) with at most `max_messages`
entries:

1. messages of the host (and operators) are always in, oldest first;
2. identical texts collapse into one entry with a count ("想要" x 57);
3. at most one entry per sender per batch (a fast typist cannot fill it);
4. if more entries remain than free places, a uniform random sample is kept
   (in a crowded room every sender has the same chance to be seen);
5. `dropped` says how many messages were left out, for "+123" in the UI.

The sender's own message is never subject to sampling: it is echoed on the
sender's private topic as soon as it is accepted.
"""
from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field
from typing import Iterable

from livecommerce.interaction.moderation import fold
from livecommerce.shared.gates import gate_wait_ms  # noqa: F401 - the one definition, re-exported


@dataclass(frozen=True)
class Candidate:
    id: str
    user_id: str
    text: str
    at_ms: int
    priority: bool = False          # host or operator
    nickname: str | None = None
    reply_to: dict | None = None
    weight: int = 1                 # messages this candidate stands for (admission sampling)


@dataclass
class Entry:
    message: Candidate
    count: int = 1
    ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BatchPlan:
    entries: tuple[Entry, ...]
    dropped: int
    received: int

    @property
    def delivered_ids(self) -> list[str]:
        return [i for e in self.entries for i in e.ids]


def plan_batch(candidates: Iterable[Candidate], *, max_messages: int, rng: random.Random | None = None) -> BatchPlan:
    rng = rng or random.Random()
    unique: dict[str, Candidate] = {}
    for c in candidates:
        unique.setdefault(c.id, c)
    ordered = sorted(unique.values(), key=lambda c: (c.at_ms, c.id))
    priority = [Entry(c, c.weight, [c.id]) for c in ordered if c.priority]

    groups: dict[str, Entry] = {}
    for c in ordered:
        if c.priority:
            continue
        key = fold(c.text) or c.text
        entry = groups.get(key)
        if entry is None:
            groups[key] = Entry(c, c.weight, [c.id])
        else:
            entry.count += c.weight
            entry.ids.append(c.id)

    # One entry per sender: a sender's further distinct texts wait for a later batch
    # (they are counted as dropped here; a message is offered once).
    per_sender: dict[str, Entry] = {}
    for entry in sorted(groups.values(), key=lambda e: (e.message.at_ms, e.message.id)):
        per_sender.setdefault(entry.message.user_id, entry)
    eligible = list(per_sender.values())
    room = max(0, max_messages - len(priority))
    if len(eligible) > room:
        eligible = rng.sample(eligible, room)
    chosen = sorted(priority + eligible, key=lambda e: (e.message.at_ms, e.message.id))
    delivered = sum(e.count for e in chosen)
    received = sum(c.weight for c in ordered)
    return BatchPlan(entries=tuple(chosen), dropped=received - delivered, received=received)


def max_deliveries_per_second(interval_ms: int) -> float:
    return 1000.0 / interval_ms


def expected_batches_per_second(arrivals_per_second: float, interval_ms: int) -> float:
    """How many batches a second a room's gate publishes on average when messages arrive at random
    (Poisson) at `arrivals_per_second`: the first message after a quiet spell goes out at once
    (leading edge), the ones inside a slot wait for its end (trailing). After a publish the next one
    comes one interval later if anything arrived meanwhile, else with the next arrival, so the mean
    gap is T + exp(-rate T) / rate; never more than 1000 / interval_ms. The cost model's figure for
    push delivery by audience size (benchmarks/cost.py)."""
    if arrivals_per_second <= 0:
        return 0.0
    t = interval_ms / 1000.0
    return 1.0 / (t + math.exp(-arrivals_per_second * t) / arrivals_per_second)


def iot_outbound_per_second(viewers: int, *, danmaku_batches_per_second: float, like_broadcasts_per_second: float,
                            other_events_per_second: float = 0.0) -> float:
    """IoT Core bills (and limits) each message delivered to each subscriber."""
    return viewers * (danmaku_batches_per_second + like_broadcasts_per_second + other_events_per_second)


class Admission:
    """Which accepted messages of a crowded room are offered to its next batch.

    Every offer is a write to the room's one gate item, so in a room of hundreds of
    messages a second each API container offers a non-priority message only with
    probability p, aiming at about `target_per_slot` offers per batch slot from all
    containers together; an offered message stands for 1/p messages (its weight),
    so counts ("想要 x57") and `dropped` stay estimates of the whole room.

    The room's arrival rate is estimated from what the gate answers: `queued` (offers
    since the slot was last taken) seen at a uniformly random point of the slot is
    on average half the slot's offers, and offers are arrivals x p. Estimates older
    than `stale_ms` are forgotten (p back to 1), so a quiet room is never sampled."""

    def __init__(self, *, target_per_slot: int, smoothing: float = 0.3, stale_ms: int = 2000) -> None:
        self.target_per_slot = max(1, target_per_slot)
        self.smoothing = smoothing
        self.stale_ms = stale_ms
        self._rooms: dict[str, tuple[float, int]] = {}   # room -> (arrivals per slot, observed at ms)

    def chance(self, room_id: str, now_ms: int) -> float:
        found = self._rooms.get(room_id)
        if found is None or now_ms - found[1] > self.stale_ms:
            return 1.0
        per_slot = found[0]
        return 1.0 if per_slot <= self.target_per_slot else self.target_per_slot / per_slot

    def observe(self, room_id: str, *, queued: int, chance: float, now_ms: int) -> None:
        per_slot = 2.0 * max(1, queued) / max(chance, 1e-6)
        found = self._rooms.get(room_id)
        if found is not None and now_ms - found[1] <= self.stale_ms:
            per_slot = found[0] + self.smoothing * (per_slot - found[0])
        self._rooms[room_id] = (per_slot, now_ms)
        if len(self._rooms) > 1024:          # a container serves few rooms at a time
            oldest = min(self._rooms, key=lambda r: self._rooms[r][1])
            self._rooms.pop(oldest, None)


def weight_for(chance: float, rng: random.Random) -> int:
    """An integer weight whose mean is 1/chance (randomized rounding)."""
    exact = 1.0 / max(chance, 1e-6)
    whole = int(exact)
    return max(1, whole + (1 if rng.random() < exact - whole else 0))


# -- the like total inside the batches (push mode) -----------------------------------------
#
# A push-mode room's like total rides on the danmaku batches that go out anyway (`likes_total` on the
# batch): the realtime batcher records each new total on the room's danmaku gate item, and the next
# batch carries the total recorded there. A separate like message (the retained `state/likes`) goes
# out only when nothing went out for `idle_ms`, so an idle room's count still moves, and it takes a
# batch slot (the gate's last publish): batches and like messages together stay at most one every
# `interval_ms`, 5 a second per viewer. Every total is delivered within `idle_ms` of being recorded.

def like_message_due(last_delivery_ms: int | None, now_ms: int, idle_ms: int) -> bool:
    """A separate like message may go out now: nothing (batch or like message) went out for `idle_ms`."""
    return last_delivery_ms is None or now_ms - last_delivery_ms >= idle_ms


@dataclass(frozen=True)
class Delivery:
    at_ms: int
    kind: str                 # "batch" or "likes"
    likes_total: int          # the total it carries (0: none recorded yet)


def simulate_push(danmaku_ms: Iterable[int], likes_ms: Iterable[int], *, interval_ms: int,
                  idle_ms: int) -> list[Delivery]:
    """What one viewer of a push-mode room receives, by the rules the code follows (interaction.feed
    and interaction.batcher): a danmaku arriving when the slot is open goes out at once (leading
    edge), one arriving inside a slot waits for its end (the trailing flush); each like (the total
    grows by one) is recorded, goes out at once as a like message when `like_message_due`, else a
    check is asked for `idle_ms` later unless one is pending by then; a check finding the recorded
    total undelivered sends the like message when due, else looks again `idle_ms` after the last
    delivery. The cost model (benchmarks/cost.py) counts the deliveries of Poisson arrivals with it."""
    events: list[tuple[int, int, str]] = []           # (time, order, kind); order: arrivals before timers
    for t in danmaku_ms:
        events.append((int(t), 1, "danmaku"))
    for t in likes_ms:
        events.append((int(t), 1, "like"))
    heapq.heapify(events)
    out: list[Delivery] = []
    last: int | None = None
    queued = 0
    trailing: int | None = None
    total = sent = 0
    check: int | None = None

    def deliver(at: int, kind: str) -> None:
        nonlocal last, sent
        out.append(Delivery(at, kind, total))
        last, sent = at, total

    while events:
        at, _, kind = heapq.heappop(events)
        if kind == "danmaku":
            if last is None or at >= last + interval_ms:
                deliver(at, "batch")
            else:
                queued += 1
                if trailing is None or trailing < last + interval_ms:
                    trailing = last + interval_ms
                    heapq.heappush(events, (trailing, 0, "flush"))
        elif kind == "flush":
            if queued and (last is None or at >= last + interval_ms):
                queued = 0
                deliver(at, "batch")
            elif queued:                                   # a like message took the slot: the next one
                trailing = last + interval_ms
                heapq.heappush(events, (trailing, 0, "flush"))
        elif kind == "like":
            total += 1
            if like_message_due(last, at, idle_ms):
                deliver(at, "likes")
            elif check is None or check < at:
                check = at + idle_ms
                heapq.heappush(events, (check, 0, "check"))
        elif kind == "check" and sent < total:
            if like_message_due(last, at, idle_ms):
                deliver(at, "likes")
            else:
                check = last + idle_ms
                heapq.heappush(events, (check, 0, "check"))
    return out


def expected_push_deliveries(danmaku_per_second: float, likes_per_second: float, *, interval_ms: int,
                             idle_ms: int, seconds: int = 3600, seed: int = 7) -> tuple[float, float]:
    """(batches, like messages) a second one viewer of a push-mode room receives when danmaku and like
    calls arrive at random (Poisson) at these rates: `simulate_push` over `seconds` of arrivals drawn
    with a fixed seed (the cost model's figure; deterministic)."""
    rng = random.Random(seed)

    def arrivals(rate: float) -> list[int]:
        found, t = [], 0.0
        while rate > 0:
            t += rng.expovariate(rate)
            if t >= seconds:
                break
            found.append(int(t * 1000))
        return found

    got = simulate_push(arrivals(danmaku_per_second), arrivals(likes_per_second), interval_ms=interval_ms,
                        idle_ms=idle_ms)
    batches = sum(1 for d in got if d.kind == "batch")
    return batches / seconds, (len(got) - batches) / seconds

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

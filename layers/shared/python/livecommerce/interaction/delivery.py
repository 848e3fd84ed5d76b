"""How the crowd's danmaku (and like totals) reach a room's viewers: pushed over MQTT (IoT Core
bills every delivery to every subscriber) or polled from the edge (one numbered page per batch,
`GET /v1/rooms/{room_id}/feed?seq=N`, cached by CloudFront 1 s: one origin request per edge per
second whatever the audience). Pure rules, no I/O.

What must be instant and is rare stays pushed in both modes: cards, flash-sale steps, lotteries,
the viewer's own echo and host replies (the events and private topics).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

PUSH = "push"
POLL = "poll"
MODES = (PUSH, POLL)
# The shipped thresholds, chosen with benchmarks/cost.py so the backend stays under 10 % of the video at
# every room size (docs/latency-and-cost.md): poll from 1,000 viewers (settings: DANMAKU_POLL_ABOVE_VIEWERS),
# every 1.5 s past the switch (1 s would cost ~12 % in CloudFront requests), every 2 s from 10,000.
POLL_ABOVE_VIEWERS = 1000
POLL_INTERVAL_MS = 1500          # how often a poll-mode client reads the feed, just past the switch
SLOW_POLL_INTERVAL_MS = 2000     # ... and in a large room (from SLOW_POLL_FROM_VIEWERS): half the edge requests
SLOW_POLL_FROM_VIEWERS = 10_000
PAGE_LIMIT = 25          # 5 s of batches at 5 a second: a client a few seconds behind catches up in one call


def effective(setting: str | None, audience_mode: str | None) -> str:
    """The mode a room is in now: the explicit setting (host or operator) wins; else what the
    audience rule last decided (`follow`, recorded on the room's settings item); push before it ran."""
    if setting in MODES:
        return setting
    return audience_mode if audience_mode in MODES else PUSH


DOWN_RATIO = 0.8              # back to push below 80 % of the threshold (hysteresis)
MIN_SWITCH_GAP_MS = 60_000    # at most one switch a minute


@dataclass(frozen=True)
class Audience:
    """What the audience rule decided for a room and when (None: never switched)."""
    mode: str = PUSH
    switched_at_ms: int | None = None


def push_below(threshold: int, ratio: float = DOWN_RATIO) -> int:
    """A room in poll mode returns to push when its audience is below this (and at least 1 under
    the threshold, so a tiny threshold still has a band)."""
    return max(0, min(int(threshold * ratio), threshold - 1))


def follow(state: Audience, viewers: int, *, threshold: int, now_ms: int,
           min_gap_ms: int = MIN_SWITCH_GAP_MS, ratio: float = DOWN_RATIO) -> Audience:
    """The audience rule with hysteresis: poll from `threshold` viewers on, back to push only below
    `push_below(threshold)`, and never two switches within `min_gap_ms`, so a room at the edge does
    not flap. `threshold` 0 (or less): the rule is off and the room stays in push. Returns `state`
    itself when nothing changes."""
    if threshold <= 0:
        wanted = PUSH
    elif state.mode == POLL:
        wanted = PUSH if viewers < push_below(threshold, ratio) else POLL
    else:
        wanted = POLL if viewers >= threshold else PUSH
    if wanted == state.mode:
        return state
    if state.switched_at_ms is not None and now_ms - state.switched_at_ms < min_gap_ms:
        return state
    return Audience(mode=wanted, switched_at_ms=now_ms)


def poll_interval(viewers: int, current_ms: int | None, *, fast_ms: int = POLL_INTERVAL_MS,
                  slow_ms: int = SLOW_POLL_INTERVAL_MS, slow_from: int = SLOW_POLL_FROM_VIEWERS,
                  ratio: float = DOWN_RATIO) -> int:
    """How often poll-mode clients of a room of `viewers` read the feed, the cadence read-diffusion
    platforms use: every `fast_ms` just past the push->poll switch, every `slow_ms` from `slow_from`
    viewers on, where the edge requests are most of the backend's cost (benchmarks/cost.py); back to
    `fast_ms` only below `push_below(slow_from)` (hysteresis, as for the mode). `slow_from` 0 (or
    less): always `fast_ms`. `current_ms` is the interval the room has now (None: never decided)."""
    if slow_from <= 0 or slow_ms <= fast_ms:
        return fast_ms
    if current_ms == slow_ms:
        return fast_ms if viewers < push_below(slow_from, ratio) else slow_ms
    return slow_ms if viewers >= slow_from else fast_ms


def control_message(room_id: str, mode: str, poll_interval_ms: int = POLL_INTERVAL_MS) -> dict[str, Any]:
    """The message on the room's events topic that moves connected clients to `mode` (and, in poll
    mode, to the room's feed cadence: sent again when only the cadence changes)."""
    return {"type": "delivery", "room_id": room_id, "mode": mode,
            "feed": f"/v1/rooms/{room_id}/feed", "poll_interval_ms": int(poll_interval_ms)}


@dataclass(frozen=True)
class Page:
    seq: int
    at_ms: int
    message: dict[str, Any]


@dataclass(frozen=True)
class FeedView:
    pages: list[Page]
    next_seq: int
    missed: int          # pages between the client's seq and the first one still kept (expired)


def view(pages: Iterable[Page], *, after: int, limit: int = PAGE_LIMIT) -> FeedView:
    """Pages after `after` in order, each once, at most `limit`; `next_seq` is what the client
    asks for next (its last seen seq); `missed` counts pages it can no longer get."""
    ordered = sorted({p.seq: p for p in pages if p.seq > after}.values(), key=lambda p: p.seq)[:limit]
    if not ordered:
        return FeedView(pages=[], next_seq=after, missed=0)
    missed = ordered[0].seq - after - 1 if after > 0 else 0
    return FeedView(pages=ordered, next_seq=ordered[-1].seq, missed=max(missed, 0))

"""The room lifecycle as a pure function of what has been observed.

IVS events can arrive late, twice or out of order (AWS says so), so the status
is never "the last event wins": it is derived from the set of facts recorded
so far (each stream's start and end, the recording end, the host's own start
and end). Recording a fact twice changes nothing, and any arrival order of the
same facts gives the same status.

  scheduled --stream starts / host starts--> live
  live --every stream ended--> interrupted --a stream starts again--> live
  interrupted --recording ended after the last stream (reconnect window over)--> ended
  any --host ends--> ended (terminal)

A planned switch (the host moving into or out of a co-stream composition, issue 15): on AWS the
host's encoder leaves the channel and the composition's stream takes it (or back), so the channel's
stream ends and another starts a few seconds later. The host opens a planned-switch window first
(media's layout change, `open_switch_window`); an end of every stream inside that window keeps the
room live until the window closes (`held_by_switch`): a stream starting meanwhile means nothing
happened for viewers, and if none has started when the window closes the room is interrupted then
(the stream_events function re-derives at `switch_recheck_at`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SCHEDULED, LIVE, INTERRUPTED, ENDED = "scheduled", "live", "interrupted", "ended"
STATUSES = (SCHEDULED, LIVE, INTERRUPTED, ENDED)
# How long a planned switch may take: the host's encoder moving to the stage (or back) and the
# composition's stream reaching the channel. Past it, the stream drop is real and viewers hear so.
PLANNED_SWITCH_SECONDS = 30


@dataclass(frozen=True)
class StreamFacts:
    stream_id: str
    started_at: str | None = None   # ISO 8601 event times, compared as strings (all UTC 'Z')
    ended_at: str | None = None


@dataclass(frozen=True)
class RoomFacts:
    host_started_at: str | None = None
    host_ended_at: str | None = None
    recording_ended_at: str | None = None
    streams: tuple[StreamFacts, ...] = ()
    switch_from: str | None = None      # the planned-switch window, ISO 8601 UTC (open_switch_window)
    switch_until: str | None = None


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def epoch_ms(value: str) -> int:
    return int(_time(value).timestamp() * 1000)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def open_switch_window(switch_from: str | None, switch_until: str | None, now: str,
                       seconds: int = PLANNED_SWITCH_SECONDS) -> tuple[str, str]:
    """The window a planned switch opens at `now`: `seconds` long; one still open is extended, so a
    stream end held by it stays held (the host switching twice in a row)."""
    start = _time(now)
    if switch_from and switch_until and _time(switch_until) >= start:
        start = min(start, _time(switch_from))
    return _iso(start), _iso(_time(now) + timedelta(seconds=seconds))


def _last_end(facts: RoomFacts) -> str | None:
    """When the last stream ended, if every stream seen has ended (None otherwise)."""
    seen = [s for s in facts.streams if s.started_at or s.ended_at]
    if not seen or any(s.started_at and not s.ended_at for s in seen):
        return None
    last_activity = max((max(s.started_at or "", s.ended_at or "") for s in seen), key=_time)
    ends = [s.ended_at for s in seen if s.ended_at]
    last = max(ends, key=_time) if ends else None
    return last if last is not None and _time(last) >= _time(last_activity) else None


def held_by_switch(facts: RoomFacts, now: str | None) -> bool:
    """Every stream has ended, the last end inside the planned-switch window, and the window is still
    open at `now`: the room stays live (no interruption is announced yet)."""
    if now is None or not (facts.switch_from and facts.switch_until):
        return False
    last = _last_end(facts)
    if last is None:
        return False
    window_from, window_until = _time(facts.switch_from), _time(facts.switch_until)
    return window_from <= _time(last) <= window_until and _time(now) < window_until


def switch_recheck_at(facts: RoomFacts, now: str | None) -> str | None:
    """When the room's status must be derived again because a held stream end runs out (the window's
    close), or None when nothing is held."""
    return facts.switch_until if held_by_switch(facts, now) else None


def derive_status(facts: RoomFacts, now: str | None = None) -> str:
    """The status the facts give at `now` (None: ignore planned-switch windows)."""
    if facts.host_ended_at:
        return ENDED
    if any(s.started_at and not s.ended_at for s in facts.streams):
        return LIVE
    seen = [s for s in facts.streams if s.started_at or s.ended_at]
    if seen:
        last_activity = max(max(s.started_at or "", s.ended_at or "") for s in seen)
        if facts.recording_ended_at and facts.recording_ended_at >= last_activity:
            return ENDED
        if held_by_switch(facts, now):
            return LIVE
        return INTERRUPTED
    if facts.host_started_at:
        return LIVE
    return SCHEDULED


# Domain events for each observed change of status.
TRANSITION_EVENTS: dict[tuple[str, str], tuple[str, ...]] = {
    (SCHEDULED, LIVE): ("RoomStarted",),
    (SCHEDULED, INTERRUPTED): ("RoomStarted", "StreamInterrupted"),
    (SCHEDULED, ENDED): ("RoomEnded",),
    (LIVE, INTERRUPTED): ("StreamInterrupted",),
    (LIVE, ENDED): ("RoomEnded",),
    (INTERRUPTED, LIVE): ("StreamResumed",),
    (INTERRUPTED, ENDED): ("RoomEnded",),
    # Only a recording end (not the host) ended it, and a later stream arrived:
    # the host came back after the window; the room is on air again.
    (ENDED, LIVE): ("StreamResumed",),
}


def transition_events(old: str, new: str) -> tuple[str, ...]:
    if old == new:
        return ()
    return TRANSITION_EVENTS.get((old, new), ())


def listing_bucket(status: str) -> str:
    """Rooms listed as `live` include interrupted ones: viewers are still in them."""
    return LIVE if status == INTERRUPTED else status

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
"""
from __future__ import annotations

from dataclasses import dataclass

SCHEDULED, LIVE, INTERRUPTED, ENDED = "scheduled", "live", "interrupted", "ended"
STATUSES = (SCHEDULED, LIVE, INTERRUPTED, ENDED)


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


def derive_status(facts: RoomFacts) -> str:
    if facts.host_ended_at:
        return ENDED
    if any(s.started_at and not s.ended_at for s in facts.streams):
        return LIVE
    seen = [s for s in facts.streams if s.started_at or s.ended_at]
    if seen:
        last_activity = max(max(s.started_at or "", s.ended_at or "") for s in seen)
        if facts.recording_ended_at and facts.recording_ended_at >= last_activity:
            return ENDED
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

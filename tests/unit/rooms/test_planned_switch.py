"""A planned switch (issue 15 outcome 3 on AWS): the host moving into or out of a composition ends the
channel's stream and starts another. A stream end inside the planned-switch window does not announce
an interruption if a stream starts within it, and does when nothing comes back in time, in any
delivery order (rooms.lifecycle.held_by_switch, driven the way rooms.service drives it)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from livecommerce.rooms import lifecycle as lc

T0 = datetime(2026, 12, 1, 20, 0, 0, tzinfo=timezone.utc)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


class Room:
    """rooms.service's lifecycle steps over pure facts: record a fact, derive at `now`, announce the
    transition's events, and for a held stream end ask for a check when the window closes."""

    def __init__(self) -> None:
        self.streams: dict[str, dict] = {}
        self.window: tuple[str | None, str | None] = (None, None)
        self.status = lc.SCHEDULED
        self.announced: list[tuple[str, float]] = []
        self.checks: list[float] = []

    def facts(self) -> lc.RoomFacts:
        return lc.RoomFacts(streams=tuple(lc.StreamFacts(sid, f.get("started_at"), f.get("ended_at"))
                                          for sid, f in sorted(self.streams.items())),
                            switch_from=self.window[0], switch_until=self.window[1])

    def _derive(self, now: float) -> None:
        new = lc.derive_status(self.facts(), at(now))
        self.announced += [(name, now) for name in lc.transition_events(self.status, new)]
        self.status = new

    def _recheck(self, now: float) -> None:
        recheck = lc.switch_recheck_at(self.facts(), at(now))
        if recheck is not None:
            self.checks.append((datetime.fromisoformat(recheck.replace("Z", "+00:00")) - T0).total_seconds())

    def stream(self, kind: str, stream_id: str, event_time: float, now: float) -> None:
        self.streams.setdefault(stream_id, {})[f"{kind}_at"] = at(event_time)
        self._derive(now)
        if kind == "ended":
            self._recheck(now)

    def plan_switch(self, now: float) -> None:
        self.window = lc.open_switch_window(*self.window, at(now))
        self._derive(now)
        self._recheck(now)          # a held end's window was extended: its check moves too

    def check(self, now: float) -> None:
        self._derive(now)
        self._recheck(now)          # still held (the window was extended meanwhile): check again later


def run(deliveries: list[tuple[float, str, tuple]]) -> Room:
    """Deliveries (processing time, what, args) in time order; the checks a held end asks for run at
    their time (each one once, like the asynchronous invocation)."""
    room = Room()
    queue = sorted(deliveries, key=lambda d: d[0])
    done_checks = 0
    while queue or done_checks < len(room.checks):
        pending = sorted(room.checks[done_checks:])
        if pending and (not queue or pending[0] <= queue[0][0]):
            room.checks.remove(pending[0])
            room.checks.insert(done_checks, pending[0])
            done_checks += 1
            room.check(pending[0])
            continue
        now, what, args = queue.pop(0)
        getattr(room, what)(*args, now)
    return room


def names(room: Room) -> list[str]:
    return [name for name, _ in room.announced]


def test_switch_with_the_stream_back_in_time_announces_nothing():
    room = run([(0, "stream", ("started", "s1", 0)), (10, "plan_switch", ()),
                (14, "stream", ("ended", "s1", 13)), (22, "stream", ("started", "s2", 21))])
    assert names(room) == ["RoomStarted"] and room.status == lc.LIVE
    assert room.checks == [40.0]            # asked for once, and found the room live


def test_switch_with_nothing_back_announces_at_the_window_end():
    room = run([(0, "stream", ("started", "s1", 0)), (10, "plan_switch", ()), (14, "stream", ("ended", "s1", 13))])
    assert room.announced == [("RoomStarted", 0), ("StreamInterrupted", 40.0)]
    assert room.status == lc.INTERRUPTED


def test_a_drop_without_a_planned_switch_is_announced_at_once():
    room = run([(0, "stream", ("started", "s1", 0)), (14, "stream", ("ended", "s1", 13))])
    assert room.announced == [("RoomStarted", 0), ("StreamInterrupted", 14)] and room.checks == []


def test_an_end_after_the_window_is_a_real_drop():
    room = run([(0, "stream", ("started", "s1", 0)), (10, "plan_switch", ()), (45, "stream", ("ended", "s1", 44))])
    assert room.announced[-1] == ("StreamInterrupted", 45)


def test_a_second_switch_while_held_keeps_the_end_held():
    window = lc.open_switch_window(None, None, at(10))
    assert window == (at(10), at(40))
    assert lc.open_switch_window(*window, at(30)) == (at(10), at(60))   # extended, same start
    assert lc.open_switch_window(*window, at(50)) == (at(50), at(80))   # the old one closed: a new one
    room = run([(0, "stream", ("started", "s1", 0)), (10, "plan_switch", ()), (14, "stream", ("ended", "s1", 13)),
                (30, "plan_switch", ()), (55, "stream", ("started", "s2", 55))])
    assert names(room) == ["RoomStarted"]


def test_recording_end_and_host_end_still_win():
    facts = lc.RoomFacts(streams=(lc.StreamFacts("s1", at(0), at(13)),), recording_ended_at=at(20),
                         switch_from=at(10), switch_until=at(40))
    assert lc.derive_status(facts, at(21)) == lc.ENDED
    facts = lc.RoomFacts(streams=(lc.StreamFacts("s1", at(0), at(13)),), host_ended_at=at(14),
                         switch_from=at(10), switch_until=at(40))
    assert lc.derive_status(facts, at(15)) == lc.ENDED
    held = lc.RoomFacts(streams=(lc.StreamFacts("s1", at(0), at(13)),), switch_from=at(10), switch_until=at(40))
    assert lc.derive_status(held, at(39)) == lc.LIVE and lc.derive_status(held, at(40)) == lc.INTERRUPTED
    assert lc.derive_status(held) == lc.INTERRUPTED          # no clock: windows are not considered


@settings(max_examples=300, deadline=None)
@given(window_at=st.integers(5, 20), end=st.integers(-8, 40), start_after=st.one_of(st.none(), st.integers(1, 45)),
       end_delay=st.integers(0, 8), start_delay=st.integers(0, 8), second_switch=st.booleans())
def test_any_delivery_order(window_at, end, start_after, end_delay, start_delay, second_switch):
    """s1 on air from 0; the switch opens its window at `window_at`; s1 ends at window_at + end; s2 (the
    composition's stream, or the host's again) starts `start_after` later or never; each event is
    delivered up to 8 s late, so s2's start may arrive before s1's end (at the same second, s1's end
    is processed first)."""
    end_time = window_at + end
    until = window_at + lc.PLANNED_SWITCH_SECONDS
    deliveries = [(0, "stream", ("started", "s1", 0)), (window_at, "plan_switch", ()),
                  (end_time + end_delay, "stream", ("ended", "s1", end_time))]
    if second_switch:   # the host changes the layout once more while s1's end is held: same outcome
        deliveries.append((window_at + 2, "plan_switch", ()))
        until = window_at + 2 + lc.PLANNED_SWITCH_SECONDS
    start_time = None if start_after is None else end_time + start_after
    if start_time is not None:
        deliveries.append((start_time + start_delay, "stream", ("started", "s2", start_time)))
    room = run(deliveries)
    end_delivered = end_time + end_delay
    start_delivered = None if start_time is None else start_time + start_delay
    held = window_at <= end_time <= until and end_delivered < until
    interruptions = [when for name, when in room.announced if name == "StreamInterrupted"]

    # The status at the end depends on the facts only: live when s2 started, interrupted otherwise.
    assert room.status == (lc.LIVE if start_time is not None else lc.INTERRUPTED)
    assert names(room).count("RoomStarted") == 1
    if start_delivered is not None and start_delivered < end_delivered:
        assert interruptions == []                       # s2 was on air before s1's end arrived
    elif held and start_delivered is not None and start_delivered < until:
        assert interruptions == []                       # the planned switch: nothing for viewers
    elif held:
        assert interruptions == [until]                  # nothing back in time: announced at the window's end
    else:
        assert interruptions == [end_delivered]          # a real drop (outside the window, or too late)
    # Every announced interruption is followed by a resume exactly when s2 came back.
    assert names(room).count("StreamResumed") == (1 if interruptions and start_time is not None else 0)

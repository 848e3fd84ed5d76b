"""The order the embedded AWS's loop runs calls in (local.aws_priority.Turns): API calls before
earlier background ones, arrival order within a kind, a background call waits for a gap in the
API's calls unless it has aged, an aged one goes before waiting API calls; and its figures."""
from __future__ import annotations

import pytest

from local.aws_priority import Turn, Turns


def _turn(kind: str, since: float, name: str) -> Turn:
    return Turn(kind, since, lambda: name, None)


def _drain(turns: Turns, now: float) -> list[str]:
    ran = []
    while True:
        turn, wait = turns.next(now)
        if turn is None:
            return ran
        ran.append(turn.call())
        turns.finished(turn, now)


def test_api_calls_go_before_earlier_background_calls_in_arrival_order():
    turns = Turns(aging_seconds=60, api_gap_seconds=0)
    for since, kind, name in ((0.0, "background", "bg1"), (0.1, "background", "bg2"),
                              (0.2, "api", "api1"), (0.3, "api", "api2")):
        turns.add(_turn(kind, since, name))
    assert turns.waiting() == {"api": 2, "background": 2}
    assert _drain(turns, 1.0) == ["api1", "api2", "bg1", "bg2"]
    stats = turns.stats()
    assert stats["api"]["acquired"] == 2 and stats["background"]["acquired"] == 2
    assert stats["background"]["max_waiting"] == 2 and stats["aged"] == 0
    assert stats["background"]["max_wait_seconds"] == pytest.approx(1.0)   # bg1: came at 0.0, ran at 1.0


def test_a_background_call_waits_for_a_gap_in_the_api_calls_unless_it_has_aged():
    turns = Turns(aging_seconds=1.0, api_gap_seconds=0.005)
    turns.add(_turn("api", 10.0, "api1"))
    turn, _ = turns.next(10.0)
    turns.finished(turn, 10.001)
    turns.add(_turn("background", 10.001, "bg"))
    turn, wait = turns.next(10.002)          # 1 ms after the API call: the API's next call may follow
    assert turn is None and wait == pytest.approx(0.004)
    turns.add(_turn("api", 10.003, "api2"))  # it does, and goes first
    turn, _ = turns.next(10.003)
    assert turn.call() == "api2"
    turns.finished(turn, 10.004)
    turn, wait = turns.next(10.0085)         # 4.5 ms after it: still no gap
    assert turn is None and wait == pytest.approx(0.0005)
    turn, wait = turns.next(10.0095)         # 5.5 ms: a gap, the background call runs
    assert turn.call() == "bg" and wait is None
    assert turns.next(10.011) == (None, None)   # nothing waits: wait until something comes


def test_a_background_call_that_has_aged_goes_first_even_while_api_calls_wait():
    turns = Turns(aging_seconds=1.0, api_gap_seconds=0.005)
    turns.add(_turn("background", 0.0, "old"))
    turns.add(_turn("api", 0.5, "api1"))
    turns.add(_turn("api", 0.6, "api2"))
    turn, _ = turns.next(0.7)
    assert turn.call() == "api1"                   # not aged yet: the API first
    turns.finished(turn, 0.7)
    turn, _ = turns.next(1.2)
    assert turn.call() == "old"                    # aged: ahead of api2
    assert turns.stats()["aged"] == 1
    turns.add(_turn("background", 1.2, "young"))
    turn, wait = turns.next(1.2)
    assert turn.call() == "api2"
    turns.finished(turn, 1.2)
    turn, wait = turns.next(1.201)                  # gap not reached, not aged: wait the shorter of the two
    assert turn is None and wait == pytest.approx(0.004)


def test_a_background_call_with_no_api_traffic_runs_at_once_and_bad_settings_are_refused():
    turns = Turns()
    turns.add(_turn("background", 0.0, "bg"))
    turn, wait = turns.next(0.0)
    assert turn.call() == "bg" and wait is None
    with pytest.raises(ValueError):
        Turns(aging_seconds=-1)
    with pytest.raises(ValueError):
        Turns(api_gap_seconds=-0.1)
    with pytest.raises(ValueError):
        Turn("urgent", 0.0, lambda: None, None)

"""The one gate-wait loop (livecommerce.shared.gates) on a fake clock: it tries the slot,
reads when the next one opens, sleeps until then on the clock port, and stops when
another caller carries the work or MAX_WAITS runs out."""
from __future__ import annotations

from datetime import datetime, timezone

from livecommerce.shared import gates, ports
from tests.fakes import FakeClock

START = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
START_MS = 1_796_472_000_000


def test_time_is_the_clock_ports_in_whole_milliseconds():
    clock = FakeClock(START)
    with ports.use(clock=clock):
        assert gates.now_ms() == START_MS
        gates.sleep_ms(250)
        gates.sleep_ms(-5)                         # a slot already open: no sleep
        assert gates.now_ms() == START_MS + 250


def test_a_closed_slot_is_waited_for_on_the_clock_then_taken():
    clock = FakeClock(START)
    last = START_MS - 50                           # the previous publish, 50 ms ago
    tries: list[int] = []

    def take(at: int) -> tuple[bool, str]:
        tries.append(at)
        return at >= last + 200, "batch"

    with ports.use(clock=clock):
        waited = gates.wait_for_gate(take, lambda now: last + 200)
    assert waited == gates.Waited(taken=True, value="batch")
    assert tries == [START_MS, START_MS + 150]     # slept exactly until the slot opened


def test_the_wait_ends_when_another_caller_carries_it():
    clock = FakeClock(START)
    with ports.use(clock=clock):
        waited = gates.wait_for_gate(lambda at: (False, None), lambda now: None)
    assert waited.left and not waited.taken and waited.value is None
    assert clock.at == START                       # never slept


def test_the_wait_is_bounded_and_sleeps_at_least_the_minimum():
    clock = FakeClock(START)
    calls = []

    def never(at: int) -> tuple[bool, None]:
        calls.append(at)
        return False, None

    with ports.use(clock=clock):
        waited = gates.wait_for_gate(never, lambda now: now, min_sleep_ms=5, max_waits=7)
    assert not waited.taken and not waited.left
    assert calls == [START_MS + 5 * n for n in range(7)]


def test_gate_wait_ms_is_the_time_to_the_next_slot():
    assert gates.gate_wait_ms(None, 1000, 200) == 0
    assert gates.gate_wait_ms(1000, 1100, 200) == 100
    assert gates.gate_wait_ms(1000, 1300, 200) == 0

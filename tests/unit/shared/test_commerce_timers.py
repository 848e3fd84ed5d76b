"""On-time commerce moments (shared.timers): a timer sleeps until its moment, runs the
subject's step once, asks for the next step when it is near, and ignores what is not ours."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from livecommerce.shared import timers
from livecommerce.shared.timers import StepResult

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=timezone.utc)
SALE = "01JDQ8ZK3M7S4X2Y6A9B0C1DEF"


class FakeTime:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def asked(monkeypatch):
    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(timers, "invoke_async", lambda callee, payload: calls.append((callee, payload)) or True)
    return calls


def event(at: datetime, kind: str = "flash_sale", subject: str = SALE) -> dict:
    return timers.timer_event(kind, subject, at)["timer"]


def test_sleeps_until_the_moment_then_runs_the_step_and_asks_for_the_next(asked):
    fake = FakeTime(T0)
    seen: list[datetime] = []

    def runner(subject_id: str, now: datetime) -> StepResult:
        seen.append(now)
        return StepResult(ran="start", next_at=T0 + timedelta(seconds=70))

    result = timers.run(event(T0 + timedelta(seconds=12)), {"flash_sale": runner}, sleep=fake.sleep, clock=fake.clock)
    assert seen == [T0 + timedelta(seconds=12)]               # never before the moment
    assert result["ran"] == "start"
    # The next step is 58 s away: within the lead, so a fresh timer is asked for it.
    assert asked == [("commerce_timers", timers.timer_event("flash_sale", SALE, T0 + timedelta(seconds=70)))]


def test_the_next_step_far_away_is_left_to_the_minute_tick(asked):
    fake = FakeTime(T0)
    timers.run(event(T0), {"flash_sale": lambda s, now: StepResult("start", T0 + timedelta(hours=1))},
               sleep=fake.sleep, clock=fake.clock)
    assert fake.slept == [] and asked == []


def test_woken_early_it_waits_for_the_step_once(asked):
    fake = FakeTime(T0)
    due = T0 + timedelta(seconds=2)
    runs: list[datetime] = []

    def runner(subject_id: str, now: datetime) -> StepResult:
        runs.append(now)
        return StepResult("end", None) if now >= due else StepResult(None, due)

    result = timers.run(event(T0 + timedelta(seconds=1)), {"flash_sale": runner}, sleep=fake.sleep, clock=fake.clock)
    assert runs == [T0 + timedelta(seconds=1), due] and result["ran"] == "end"
    assert asked == []                                         # nothing left after the end


def test_a_step_already_run_by_someone_else_does_nothing(asked):
    fake = FakeTime(T0)
    calls = []
    result = timers.run(event(T0, kind="coupon_drop"),
                        {"coupon_drop": lambda s, now: calls.append(s) or StepResult(None, None)},
                        sleep=fake.sleep, clock=fake.clock)
    assert calls == [SALE] and result["ran"] is None and asked == []


@pytest.mark.parametrize("raw", [
    None,
    "soon",
    {"kind": "rocket_launch", "id": SALE, "at_ms": 0},
    {"kind": "flash_sale", "id": "../../etc", "at_ms": 0},
    {"kind": "flash_sale", "id": SALE, "at_ms": "now"},
    {"kind": "flash_sale", "id": SALE, "at_ms": True},
    {"kind": "flash_sale", "id": SALE, "at_ms": int((T0 + timedelta(hours=2)).timestamp() * 1000)},  # too far
])
def test_malformed_or_foreign_timers_run_nothing(raw, asked):
    fake = FakeTime(T0)
    ran = []
    result = timers.run(raw, {"flash_sale": lambda s, now: ran.append(s) or StepResult("start", None)},
                        sleep=fake.sleep, clock=fake.clock)
    assert ran == [] and fake.slept == [] and asked == [] and result["error"]


def test_request_only_for_moments_within_the_lead(asked):
    assert timers.request("flash_sale", SALE, T0 + timedelta(seconds=timers.TIMER_LEAD_SECONDS + 1), now=T0) is False
    assert timers.request("flash_sale", SALE, None, now=T0) is False
    assert asked == []
    assert timers.request("flash_sale", SALE, T0 + timedelta(seconds=30), now=T0) is True
    assert asked == [("commerce_timers", {"timer": {"kind": "flash_sale", "id": SALE,
                                                  "at_ms": int((T0 + timedelta(seconds=30)).timestamp() * 1000)}})]

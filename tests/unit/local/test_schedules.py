"""The local schedule loop's reading of EventBridge schedule expressions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from livecommerce.payments.spec import RECONCILIATION_SCHEDULE
from local.schedules import cron_due, due, fires_between

UTC = timezone.utc


def test_the_reconciliation_fires_at_10_30_and_14_30_beijing_only():
    day = datetime(2025, 3, 9, tzinfo=UTC)
    fired = [m for m in range(24 * 60) if cron_due(RECONCILIATION_SCHEDULE, day + timedelta(minutes=m))]
    assert [(m // 60, m % 60) for m in fired] == [(2, 30), (6, 30)]      # UTC: 10:30 and 14:30 in Shanghai
    assert due("rate(1 minute)", day)


@pytest.mark.parametrize("expression", ["cron(0 2 1 * ? *)", "cron(0/5 * * * ? *)", "rate", "cron(0 2 * *)"])
def test_expressions_the_loop_cannot_run_faithfully_are_refused(expression):
    with pytest.raises(ValueError):
        cron_due(expression, datetime(2025, 1, 1, tzinfo=UTC))


@given(start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 1, 1)),
       wakes=st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=40))
def test_drifting_wakes_fire_each_due_minute_exactly_once(start, wakes):
    """However the loop's wakes drift (seconds apart or minutes late), a due minute fires once."""
    at, fired = start.replace(tzinfo=UTC), 0
    first = at
    for seconds in wakes:
        later = at + timedelta(seconds=seconds)
        fired += fires_between("cron(* * * * ? *)", at, later)
        at = later
    minutes = int((at.replace(second=0, microsecond=0) - first.replace(second=0, microsecond=0)).total_seconds() // 60)
    assert fired <= minutes and (minutes == 0) == (fired == 0)


# ------------------------------------------------------------------ the local stack runs every scheduled spec

def test_every_scheduled_function_spec_is_run_by_the_local_stack(monkeypatch):
    """The stack's schedule loop, run for three wakes with invoke recorded: every FunctionSpec with a
    rate(1 minute) schedule (the engagement and PK clocks' fallback ticks too) runs on each wake, and the
    list comes from the manifest (a new scheduled spec is run without touching the stack)."""
    from livecommerce.manifest import FUNCTION_SPECS
    from local import lambda_runtime
    from local.stack import LocalStack

    every_minute = {f.name for f in FUNCTION_SPECS if f.schedule == "rate(1 minute)"}
    assert {"engagement_clock", "pk_clock", "outbox_sweeper", "order_expiry", "refunds"} <= every_minute

    calls: list[str] = []
    monkeypatch.setattr(lambda_runtime, "invoke", lambda name, event: calls.append(name))

    class ThreeWakes:
        def __init__(self):
            self.wakes = 0

        def wait(self, seconds):
            self.wakes += 1
            return self.wakes > 3

    stack = LocalStack()
    stack._stop = ThreeWakes()
    stack._run_schedules()
    assert all(calls.count(name) == 3 for name in every_minute), calls
    assert set(calls) <= {f.name for f in FUNCTION_SPECS if f.schedule}


def test_over_a_day_of_wakes_each_scheduled_spec_runs_as_eventbridge_would():
    from livecommerce.manifest import FUNCTION_SPECS
    from local.schedules import due_functions, scheduled_functions

    scheduled = scheduled_functions(FUNCTION_SPECS)
    assert {name for name, _ in scheduled} == {f.name for f in FUNCTION_SPECS if f.schedule}
    runs: dict[str, int] = {}
    at = datetime(2025, 3, 9, tzinfo=UTC)
    for _ in range(24 * 60):
        later = at + timedelta(seconds=60)
        for name in due_functions(scheduled, at, later):
            runs[name] = runs.get(name, 0) + 1
        at = later
    assert runs["reconciliation"] == 2                               # 10:30 and 14:30 in Shanghai
    assert runs["engagement_clock"] == runs["pk_clock"] == 24 * 60   # every minute
    assert set(runs) == {name for name, _ in scheduled}


@pytest.mark.parametrize("expression, per_day", [("rate(5 minutes)", 288), ("rate(1 hour)", 24), ("rate(1 day)", 1)])
def test_longer_rates_run_once_per_period(expression, per_day):
    from local.schedules import due_functions

    at, runs = datetime(2025, 3, 9, 0, 0, 30, tzinfo=UTC), 0
    for _ in range(24 * 60):
        later = at + timedelta(seconds=60)
        runs += len(due_functions([("f", expression)], at, later))
        at = later
    assert runs == per_day


def test_a_schedule_the_loop_cannot_honour_stops_the_stack_at_start():
    from types import SimpleNamespace

    from local.schedules import scheduled_functions

    with pytest.raises(ValueError):
        scheduled_functions([SimpleNamespace(name="monthly", schedule="cron(0 2 1 * ? *)")])
    with pytest.raises(ValueError):
        scheduled_functions([SimpleNamespace(name="weekly", schedule="rate(1 week)")])

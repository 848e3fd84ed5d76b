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

"""Points for taking part: the daily caps per rule and per viewer hold for any sequence of awards."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from livecommerce.engagement import participation as p

awards = st.lists(st.tuples(st.sampled_from(sorted(p.RULES)), st.integers(min_value=-5, max_value=80)),
                  max_size=60)


@given(awards)
def test_caps_per_rule_and_per_viewer_hold_and_nothing_is_withheld_below_them(sequence):
    by_rule: Counter = Counter()
    total = 0
    for rule, requested in sequence:
        got = p.grant(rule, requested, used_by_rule=by_rule[rule], used_in_total=total)
        assert 0 <= got <= max(requested, 0)
        if got < requested:      # cut only because a cap was reached
            assert by_rule[rule] + got == p.RULES[rule].daily_cap or total + got == p.USER_DAILY_CAP
        by_rule[rule] += got
        total += got
        assert by_rule[rule] <= p.RULES[rule].daily_cap and total <= p.USER_DAILY_CAP
    assert total == sum(by_rule.values())


def test_the_user_cap_binds_across_rules():
    used = {"watch_time": 60, "quiz_answer": 80}
    assert p.grant("share", 30, used_by_rule=0, used_in_total=sum(used.values())) == 10
    assert p.grant("lottery_entry", 2, used_by_rule=0, used_in_total=150) == 0


@pytest.mark.parametrize("seconds,points", [(0, 0), (299, 0), (300, 1), (3599, 11), (-30, 0)])
def test_watch_points(seconds, points):
    assert p.watch_points(seconds) == points


def test_the_day_is_china_standard_time():
    assert p.day_of(datetime(2026, 3, 1, 15, 59, tzinfo=timezone.utc)) == "2026-03-01"
    assert p.day_of(datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)) == "2026-03-02"
    with pytest.raises(ValueError):
        p.day_of(datetime(2026, 3, 1))

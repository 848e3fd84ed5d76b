"""Pure co-streaming and PK rules."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from livecommerce.media import costream_rules as rules
from livecommerce.shared import problems


@given(st.integers(min_value=0, max_value=30))
def test_at_most_twelve_publishers_counting_the_host(guests):
    assert rules.can_take_seat(guests) == (guests + 1 + 1 <= 12)


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_likes_score_never_negative(now, baseline):
    assert rules.likes_score(now, baseline) == max(0, now - baseline)


@given(st.one_of(st.none(), st.integers(0, 10**9)), st.integers(0, 10**9), st.booleans())
def test_score_published_at_most_once_a_second(last, now, changed):
    published = rules.should_publish(last, now, changed)
    if published and last is not None:
        assert now - last >= rules.SCORE_INTERVAL_MS
    if not changed:
        assert not published


def test_accept_checks_room_kind_and_invitee():
    ok = dict(kind="invitation", state="pending", seat_room="r1", room_id="r1", caller_id="u", invitee_id="u",
              caller_runs_room=False)
    rules.accept_check(**ok)
    with pytest.raises(problems.NotFound):
        rules.accept_check(**{**ok, "room_id": "r2"})
    with pytest.raises(problems.Forbidden):
        rules.accept_check(**{**ok, "caller_id": "x"})
    with pytest.raises(problems.Forbidden):
        rules.accept_check(**{**ok, "kind": "application"})
    with pytest.raises(problems.Conflict):
        rules.accept_check(**{**ok, "state": "on_stage"})


def test_muted_guests_only_subscribe_and_results():
    assert rules.capabilities("on_stage") == ("PUBLISH", "SUBSCRIBE")
    assert rules.capabilities("muted") == ("SUBSCRIBE",)
    with pytest.raises(problems.Conflict):
        rules.capabilities("ended")
    assert rules.result(rules.Score(3, 7), "a", "b")["winner_room_id"] == "b"
    assert rules.result(rules.Score(2, 2), "a", "b")["draw"] is True
    with pytest.raises(problems.Conflict):
        rules.require_live("r", "scheduled")

"""Poll and quiz rules (engagement.poll_rules), property-tested."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from livecommerce.engagement import poll_rules as rules
from livecommerce.shared import problems


@given(st.integers(2, 10), st.lists(st.integers(-3, 12), min_size=1, max_size=12), st.booleans(), st.integers(1, 10))
def test_a_vote_is_accepted_exactly_when_its_options_exist_are_distinct_and_few_enough(n, choices, multiple, max_choices):
    allowed = max_choices if multiple else 1
    valid = all(0 <= c < n for c in choices) and len(set(choices)) == len(choices) and len(choices) <= allowed
    try:
        assert rules.check_choices(choices, n, multiple=multiple, max_choices=max_choices) == sorted(choices)
        assert valid
    except problems.Problem as refused:
        assert not valid
        assert refused.status == 422
        if any(not 0 <= c < n for c in choices):
            assert refused.code == "option_not_found"


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), max_size=40))
def test_tally_sums_every_shard_of_each_option(shards):
    counts = rules.tally(shards, 4)
    assert counts == [sum(c for o, c in shards if o == i) for i in range(4)]


@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=12))
def test_options_are_two_to_ten_each_once(options):
    ok = 2 <= len(options) <= 10 and len({o.strip() for o in options}) == len(options)
    if ok:
        rules.check_options(options)
    else:
        with pytest.raises(problems.Problem):
            rules.check_options(options)


@given(st.text(min_size=1, max_size=20))
def test_a_voter_always_lands_on_the_same_shard(user):
    assert rules.shard_of(user) == rules.shard_of(user) and 0 <= rules.shard_of(user) < rules.COUNT_SHARDS


@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 3), st.integers(0, 10_000)),
                unique_by=lambda t: t[0], max_size=8))
def test_ranking_is_the_right_answers_fastest_first(raw):
    answers = [rules.Answer(u, c, ms) for u, c, ms in raw]
    ranked = rules.ranking(answers, 1)
    assert {a.user_id for a in ranked} == {a.user_id for a in answers if a.choice == 1}
    assert [a.answered_ms for a in ranked] == sorted(a.answered_ms for a in ranked)


def test_open_only_before_the_timer_and_while_not_closed():
    assert rules.is_open("open", 100.0, 99.9)
    assert not rules.is_open("open", 100.0, 100.0)
    assert not rules.is_open("closed", 100.0, 50.0)

"""Refund rules: ids derived from the cause, never more than paid, results move a refund once."""
from __future__ import annotations

import re

from hypothesis import given, strategies as st

from livecommerce.payments import refund_rules as rules

STATES = (rules.REQUESTED, rules.PROCESSING, rules.SUCCEEDED, rules.FAILED)


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_refund_ids_are_stable_provider_safe_and_distinct_per_cause(a, b):
    rid = rules.after_sale_refund_id(a)
    assert rid == rules.after_sale_refund_id(a) and re.fullmatch(r"RF[0-9A-F]{30}", rid)
    assert (rid == rules.after_sale_refund_id(b)) == (a == b)
    assert rules.required_refund_id("wechat", a, "already_paid") != rules.required_refund_id("alipay", a, "already_paid")
    assert rules.required_refund_id("wechat", a, "already_paid") != rules.after_sale_refund_id(a)


@given(st.integers(1, 10**7), st.lists(st.integers(-5, 10**6), max_size=12))
def test_a_sequence_of_asks_never_refunds_more_than_paid(paid, asks):
    refunded = 0
    for amount in asks:
        if rules.refundable(paid, refunded, amount):
            refunded += amount
        assert 0 <= refunded <= paid
    if asks and all(a > 0 for a in asks) and sum(asks) <= paid:
        assert refunded == sum(asks)


@given(st.lists(st.sampled_from(STATES), max_size=8))
def test_a_final_state_never_changes_and_processing_never_undoes_one(moves):
    state = rules.REQUESTED
    for to in moves:
        before = state
        if rules.can_move(state, to):
            state = to
        if before in rules.FINAL_STATES:
            assert state == before
    assert not rules.can_move(rules.SUCCEEDED, rules.PROCESSING)
    assert not rules.can_move(rules.PROCESSING, rules.REQUESTED)


def test_provider_answers_map_to_states():
    assert rules.wechat_state("SUCCESS") == rules.SUCCEEDED and rules.wechat_state("ABNORMAL") == rules.FAILED
    assert rules.wechat_state("PROCESSING") == rules.PROCESSING and rules.wechat_state("what") is None
    assert rules.alipay_refund_answer_state("Y") == rules.SUCCEEDED
    assert rules.alipay_refund_answer_state("N") == rules.PROCESSING
    assert rules.alipay_query_state(False, None) is None
    assert rules.alipay_query_state(True, "REFUND_SUCCESS") == rules.SUCCEEDED

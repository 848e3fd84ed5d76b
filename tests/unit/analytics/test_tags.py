"""Viewer tag rules (livecommerce.analytics.tags)."""
from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from livecommerce.analytics import report_models
from livecommerce.analytics.tags import (BUYER, COUPON_USER, FIRST_TIME_VIEWER, HIGH_INTENT_NON_BUYER, LOTTERY_ONLY,
                                         REPEAT_BUYER, TAGS, ViewerFacts, tags_of)

counts = st.integers(min_value=0, max_value=5)
facts = st.builds(ViewerFacts, watch_seconds=st.integers(0, 3 * 3600), product_clicks=counts, orders=counts,
                  paid_orders=counts, coupon_orders=counts, lottery_entries=counts,
                  earlier_sessions_watched=counts, earlier_paid_orders=counts)


def test_high_intent_needs_five_minutes_a_click_and_no_payment() -> None:
    base = ViewerFacts(watch_seconds=300, product_clicks=1)
    assert HIGH_INTENT_NON_BUYER in tags_of(base)
    assert HIGH_INTENT_NON_BUYER not in tags_of(dataclasses.replace(base, watch_seconds=299))
    assert HIGH_INTENT_NON_BUYER not in tags_of(dataclasses.replace(base, product_clicks=0))
    assert HIGH_INTENT_NON_BUYER not in tags_of(dataclasses.replace(base, orders=1, paid_orders=1))
    # an order left unpaid is not a purchase: still a reminder target
    assert HIGH_INTENT_NON_BUYER in tags_of(dataclasses.replace(base, orders=1))


def test_buyers_repeat_buyers_and_coupon_users() -> None:
    assert tags_of(ViewerFacts(orders=1, paid_orders=1, earlier_sessions_watched=1)) == [BUYER]
    assert tags_of(ViewerFacts(orders=1, paid_orders=1, earlier_sessions_watched=2, earlier_paid_orders=1)) \
        == [BUYER, REPEAT_BUYER]
    assert tags_of(ViewerFacts(orders=1, paid_orders=1, coupon_orders=1, earlier_sessions_watched=1)) \
        == [BUYER, COUPON_USER]
    # paid before but not here: not a repeat buyer of this session
    assert REPEAT_BUYER not in tags_of(ViewerFacts(earlier_paid_orders=3, earlier_sessions_watched=3))


def test_first_time_and_lottery_only() -> None:
    assert tags_of(ViewerFacts()) == [FIRST_TIME_VIEWER]
    assert tags_of(ViewerFacts(lottery_entries=1, earlier_sessions_watched=1)) == [LOTTERY_ONLY]
    assert LOTTERY_ONLY not in tags_of(ViewerFacts(lottery_entries=1, product_clicks=1))
    assert LOTTERY_ONLY not in tags_of(ViewerFacts(lottery_entries=1, orders=1))


@given(facts)
def test_tags_are_consistent(f: ViewerFacts) -> None:
    tags = tags_of(f)
    assert list(tags) == [t for t in TAGS if t in tags]            # stable order, no repeats
    assert (BUYER in tags) == (f.paid_orders > 0)
    assert not (BUYER in tags and HIGH_INTENT_NON_BUYER in tags)
    assert REPEAT_BUYER not in tags or BUYER in tags
    assert not (LOTTERY_ONLY in tags and (BUYER in tags or HIGH_INTENT_NON_BUYER in tags))
    assert (FIRST_TIME_VIEWER in tags) == (f.earlier_sessions_watched == 0)


def test_a_viewer_row_has_no_place_for_a_phone_or_an_address() -> None:
    fields = set(report_models.ViewerRow.model_fields) | {f.name for f in dataclasses.fields(ViewerFacts)}
    assert not {name for name in fields if any(word in name for word in ("phone", "address", "mobile", "name"))}

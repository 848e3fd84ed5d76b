"""Marketing's pure rules: coupons on an order, drops, per-viewer limits, points. Property-based where
there is an invariant."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.marketing import rules
from livecommerce.marketing.rules import MIN_PAYABLE, CouponTerms

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
ROOM = "01ROOM00000000000000000000"


def terms(cid="c1", kind="threshold", amount=2000, threshold=10000, *, room=None, starts=-1, ends=1) -> CouponTerms:
    return CouponTerms(coupon_id=cid, kind=kind, amount=amount, threshold=threshold if kind == "threshold" else 0,
                       valid_from=NOW + timedelta(days=starts), valid_until=NOW + timedelta(days=ends), room_id=room)


coupons = st.builds(
    lambda cid, kind, amount, extra, room, starts, ends: terms(cid, kind, amount, amount + extra, room=room,
                                                               starts=starts, ends=ends),
    cid=st.text("0123456789", min_size=1, max_size=6), kind=st.sampled_from(["threshold", "no_threshold"]),
    amount=st.integers(1, 50_000), extra=st.integers(1, 200_000), room=st.sampled_from([None, ROOM, "OTHER"]),
    starts=st.integers(-5, 2), ends=st.integers(-2, 5))
subtotals = st.integers(1, 10_000_000)


# -- coupons on an order ----------------------------------------------------------------

@given(coupon=coupons, subtotal=subtotals)
def test_a_coupon_never_discounts_below_the_minimum_payable(coupon, subtotal):
    off = rules.discount(coupon, subtotal)
    assert 0 <= off <= coupon.amount
    assert subtotal - off >= MIN_PAYABLE


@given(coupon=coupons, subtotal=subtotals)
def test_a_threshold_coupon_applies_only_from_its_threshold(coupon, subtotal):
    reason = rules.unusable_reason(coupon, subtotal=subtotal, room_id=ROOM, now=NOW)
    if coupon.kind == "threshold" and subtotal < coupon.threshold:
        assert reason is not None       # below the threshold it never applies (validity may fail first)
    if reason is None:
        assert coupon.valid_from <= NOW < coupon.valid_until
        assert coupon.room_id in (None, ROOM)
        assert coupon.kind == "no_threshold" or subtotal >= coupon.threshold


@given(held=st.lists(coupons, max_size=8), subtotal=subtotals)
def test_the_best_coupon_applies_and_no_applicable_one_takes_more(held, subtotal):
    best = rules.best_coupon(held, subtotal=subtotal, room_id=ROOM, now=NOW)
    usable = [c for c in held if rules.unusable_reason(c, subtotal=subtotal, room_id=ROOM, now=NOW) is None]
    if not usable:
        assert best is None
        return
    assert best in usable
    assert all(rules.discount(c, subtotal) <= rules.discount(best, subtotal) for c in usable)


def test_reasons_are_stable_codes():
    assert rules.unusable_reason(terms(starts=1, ends=2), subtotal=20000, room_id=ROOM, now=NOW) == \
        "coupon_not_yet_valid"
    assert rules.unusable_reason(terms(starts=-2, ends=0), subtotal=20000, room_id=ROOM, now=NOW) == "coupon_expired"
    assert rules.unusable_reason(terms(room="OTHER"), subtotal=20000, room_id=ROOM, now=NOW) == "coupon_wrong_room"
    assert rules.unusable_reason(terms(), subtotal=9999, room_id=ROOM, now=NOW) == "coupon_threshold_not_met"
    assert rules.unusable_reason(terms(), subtotal=10000, room_id=ROOM, now=NOW) is None
    # A no-threshold coupon on a 1-fen order would make it free: it does not apply.
    assert rules.unusable_reason(terms(kind="no_threshold", amount=500), subtotal=1, room_id=ROOM, now=NOW) == \
        "coupon_threshold_not_met"
    assert rules.discount(terms(kind="no_threshold", amount=500), 300) == 299


def test_ties_go_to_the_coupon_expiring_first():
    later, sooner = terms("a", ends=3), terms("b", ends=2)
    assert rules.best_coupon([later, sooner], subtotal=10000, room_id=ROOM, now=NOW) == sooner


def test_coupon_terms_are_frozen_values():
    c = terms()
    with pytest.raises(Exception):
        c.amount = 1   # type: ignore[misc]
    assert c == terms() and hash(c) == hash(terms())


@pytest.mark.parametrize("kind,amount,threshold,ok", [
    ("threshold", 2000, 10000, True), ("threshold", 2000, 2000, False), ("threshold", 0, 100, False),
    ("no_threshold", 500, 0, True), ("no_threshold", 500, 100, False), ("no_threshold", -1, 0, False)])
def test_template_terms(kind, amount, threshold, ok):
    assert (rules.check_template(kind, amount, threshold) is None) is ok


@given(amount=st.integers(1, 100_000), threshold=st.integers(0, 1_000_000))
def test_a_valid_threshold_template_never_makes_a_reached_order_free(amount, threshold):
    if rules.check_template("threshold", amount, threshold) is not None:
        assert threshold <= amount
        return
    c = terms(amount=amount, threshold=threshold)
    assert rules.unusable_reason(c, subtotal=threshold, room_id=ROOM, now=NOW) is None
    assert threshold - rules.discount(c, threshold) >= threshold - amount > 0


# -- drops and held coupons --------------------------------------------------------------

def test_drop_states_in_order():
    at = NOW + timedelta(minutes=5)
    until = NOW + timedelta(days=1)
    assert rules.drop_state(drops_at=at, valid_until=until, left=10, now=NOW) == "scheduled"
    assert rules.drop_state(drops_at=at, valid_until=until, left=10, now=at) == "open"
    assert rules.drop_state(drops_at=at, valid_until=until, left=0, now=at) == "exhausted"
    assert rules.drop_state(drops_at=at, valid_until=until, left=10, now=until) == "ended"
    assert rules.drop_state(drops_at=at, valid_until=None, left=-1, now=until) == "exhausted"


def test_an_available_coupon_past_its_validity_is_expired():
    until = NOW + timedelta(hours=1)
    assert rules.coupon_state("available", valid_until=until, now=NOW) == "available"
    assert rules.coupon_state("available", valid_until=until, now=until) == "expired"
    assert rules.coupon_state("used", valid_until=until, now=until) == "used"
    assert rules.coupon_state("locked", valid_until=until, now=until) == "locked"


def test_coupon_validity_uses_the_template_window_or_days_from_now():
    start, until = NOW - timedelta(days=1), NOW + timedelta(days=2)
    assert rules.coupon_validity(valid_from=start, valid_until=until, valid_days=None, now=NOW) == (start, until)
    assert rules.coupon_validity(valid_from=None, valid_until=None, valid_days=7, now=NOW) == \
        (NOW, NOW + timedelta(days=7))
    with pytest.raises(ValueError):
        rules.coupon_validity(valid_from=None, valid_until=None, valid_days=None, now=NOW)


@given(limit=st.integers(1, 20), attempts=st.integers(0, 60))
def test_a_viewer_never_holds_more_than_the_per_user_limit(limit, attempts):
    held = 0
    for _ in range(attempts):
        if rules.may_hold_another(held, limit):
            held += 1
    assert held == min(limit, attempts)


# -- points ------------------------------------------------------------------------------

@given(total=st.integers(-1000, 10_000_000), rate=st.integers(-3, 20))
def test_points_are_whole_yuan_times_the_rate_never_negative(total, rate):
    earned = rules.points_for(total, rate)
    assert earned >= 0
    if total >= 0 and rate >= 0:
        assert earned == (total // 100) * rate
    assert rules.points_for(1999, 2) == 38
    assert rules.points_for(24690, 1) == 246 and rules.points_for(99, 1) == 0 and rules.points_for(10000, 3) == 300


@given(start=st.integers(0, 10_000), deltas=st.lists(st.integers(-5_000, 5_000), max_size=30))
def test_a_points_balance_never_goes_negative(start, deltas):
    balance = start
    for delta in deltas:
        after = rules.balance_after(balance, delta)
        if after is None:
            assert balance + delta < 0          # refused exactly when it would go below zero
        else:
            assert after == balance + delta
            balance = after
        assert balance >= 0

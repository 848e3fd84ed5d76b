"""Pricing and coupon rules: plain functions, property-based where it fits."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livecommerce.marketing.rules import MIN_PAYABLE, CouponTerms, best_coupon, check_template, discount, unusable_reason
from livecommerce.orders.pricing import (CouponRejected, Line, fen_from_yuan_text, quote, subtotal,
                                         yuan_text)

NOW = datetime(2026, 11, 11, 12, 0, tzinfo=timezone.utc)
ROOM = "01ROOM00000000000000000000"


def coupon(cid="c1", kind="threshold", amount=2000, threshold=10000, *, room=None, starts=-1, ends=1):
    return CouponTerms(coupon_id=cid, kind=kind, amount=amount, threshold=threshold if kind == "threshold" else 0,
                       valid_from=NOW + timedelta(days=starts), valid_until=NOW + timedelta(days=ends), room_id=room)


lines_st = st.lists(st.builds(Line, product_id=st.text("ABCDEF", min_size=1, max_size=4),
                              unit_price=st.integers(1, 10_000_00), quantity=st.integers(1, 99)),
                    min_size=1, max_size=10)
coupon_st = st.builds(
    lambda cid, kind, amount, extra, room, starts, ends: coupon(
        cid, kind, amount, amount + extra, room=room, starts=starts, ends=ends),
    cid=st.text("0123456789", min_size=1, max_size=6), kind=st.sampled_from(["threshold", "no_threshold"]),
    amount=st.integers(1, 50_000), extra=st.integers(1, 200_000), room=st.sampled_from([None, ROOM, "OTHER"]),
    starts=st.integers(-5, 2), ends=st.integers(-2, 5))


def test_threshold_coupon_applies_from_its_threshold():
    c = coupon(amount=2000, threshold=10000)
    assert unusable_reason(c, subtotal=9999, room_id=ROOM, now=NOW) == "coupon_threshold_not_met"
    assert unusable_reason(c, subtotal=10000, room_id=ROOM, now=NOW) is None
    assert discount(c, 10000) == 2000


def test_no_threshold_coupon_never_makes_an_order_free():
    c = coupon(kind="no_threshold", amount=5000)
    assert discount(c, 3000) == 3000 - MIN_PAYABLE
    q = quote([Line("p", 3000, 1)], [c], room_id=ROOM, now=NOW)
    assert q.total == MIN_PAYABLE and q.discount == 2999


@pytest.mark.parametrize("terms,reason", [
    (coupon(starts=1, ends=2), "coupon_not_yet_valid"),
    (coupon(starts=-3, ends=-1), "coupon_expired"),
    (coupon(room="OTHER"), "coupon_wrong_room"),
])
def test_validity_and_room(terms, reason):
    assert unusable_reason(terms, subtotal=50000, room_id=ROOM, now=NOW) == reason
    with pytest.raises(CouponRejected) as err:
        quote([Line("p", 50000, 1)], [terms], room_id=ROOM, now=NOW, coupon_id=terms.coupon_id)
    assert err.value.code == reason


def test_named_coupon_must_be_held():
    with pytest.raises(CouponRejected) as err:
        quote([Line("p", 100, 1)], [], room_id=ROOM, now=NOW, coupon_id="not-mine")
    assert err.value.code == "coupon_not_found"


def test_best_coupon_prefers_the_larger_discount_then_the_earlier_expiry():
    a = coupon("a", amount=1000, threshold=5000, ends=3)
    b = coupon("b", amount=3000, threshold=10000, ends=3)
    c = coupon("c", kind="no_threshold", amount=3000, ends=1)
    assert best_coupon([a, b], subtotal=12000, room_id=ROOM, now=NOW).coupon_id == "b"
    assert best_coupon([a, b], subtotal=6000, room_id=ROOM, now=NOW).coupon_id == "a"
    assert best_coupon([b, c], subtotal=12000, room_id=ROOM, now=NOW).coupon_id == "c"   # same 30 off, ends sooner
    assert best_coupon([a, b], subtotal=100, room_id=ROOM, now=NOW) is None


def test_template_checks():
    assert check_template("threshold", 2000, 10000) is None
    assert check_template("threshold", 2000, 2000)
    assert check_template("no_threshold", 500, 0) is None
    assert check_template("no_threshold", 500, 1)
    assert check_template("threshold", 0, 100)


@settings(max_examples=300, deadline=None)
@given(lines=lines_st, coupons=st.lists(coupon_st, max_size=6, unique_by=lambda c: c.coupon_id))
def test_quote_invariants(lines, coupons):
    q = quote(lines, coupons, room_id=ROOM, now=NOW)
    assert q.subtotal == subtotal(lines) == sum(line.unit_price * line.quantity for line in lines)
    assert 0 <= q.discount <= q.subtotal - MIN_PAYABLE or q.discount == 0
    assert q.total == q.subtotal - q.discount and q.total >= MIN_PAYABLE
    assert all(isinstance(v, int) for v in (q.subtotal, q.discount, q.total))
    usable = [c for c in coupons if unusable_reason(c, subtotal=q.subtotal, room_id=ROOM, now=NOW) is None]
    if q.coupon_id is None:
        assert not usable
    else:
        chosen = next(c for c in coupons if c.coupon_id == q.coupon_id)
        assert chosen in usable
        assert q.discount == max(discount(c, q.subtotal) for c in usable)   # the best one
        if chosen.kind == "threshold":
            assert q.subtotal >= chosen.threshold


@settings(max_examples=200, deadline=None)
@given(lines=lines_st, terms=coupon_st)
def test_a_named_coupon_applies_exactly_when_its_rules_hold(lines, terms):
    sub = subtotal(lines)
    reason = unusable_reason(terms, subtotal=sub, room_id=ROOM, now=NOW)
    if reason:
        with pytest.raises(CouponRejected):
            quote(lines, [terms], room_id=ROOM, now=NOW, coupon_id=terms.coupon_id)
    else:
        q = quote(lines, [terms], room_id=ROOM, now=NOW, coupon_id=terms.coupon_id)
        assert q.coupon_id == terms.coupon_id and q.discount == min(terms.amount, sub - MIN_PAYABLE)


@given(lines=lines_st)
def test_opting_out_applies_no_coupon(lines):
    q = quote(lines, [coupon(kind="no_threshold", amount=100)], room_id=ROOM, now=NOW, auto_coupon=False)
    assert q.coupon_id is None and q.total == q.subtotal


@pytest.mark.parametrize("bad", [[], [Line("p", 100, 0)], [Line("p", 0, 1)], [Line("p", 100, -1)]])
def test_no_empty_or_non_positive_lines(bad):
    with pytest.raises(ValueError):
        quote(bad, [], room_id=ROOM, now=NOW)


@given(st.integers(0, 10**12))
def test_yuan_text_round_trips(fen):
    text = yuan_text(fen)
    assert fen_from_yuan_text(text) == fen and "." in text and len(text.split(".")[1]) == 2


@pytest.mark.parametrize("text,fen", [("12.34", 1234), ("0.01", 1), ("100", 10000), ("1.5", 150),
                                      ("12.345", None), ("-1.00", None), ("abc", None), ("NaN", None),
                                      ("Infinity", None), ("", None)])
def test_alipay_amounts(text, fen):
    assert fen_from_yuan_text(text) == fen


"""What a refund takes back in marketing (marketing.rules.points_to_reverse, coupon_returns)."""
from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, strategies as st

from livecommerce.marketing import rules


@given(total=st.integers(1, 10_000_000), rate=st.integers(0, 20), cuts=st.lists(st.integers(1, 10_000_000), max_size=8))
def test_any_split_of_refunds_takes_back_the_earned_points_exactly_once_fully_refunded(total, rate, cuts):
    earned = rules.points_for(total, rate)
    refunded, taken = 0, 0
    amounts = []
    for cut in cuts:                                   # partial refunds, never above what is left
        amount = min(cut, total - refunded)
        if amount <= 0:
            break
        amounts.append(amount)
        refunded += amount
        step = rules.points_to_reverse(total=total, refunded_total=refunded, amount=amount, points_per_yuan=rate)
        assert step >= 0
        taken += step
        assert taken <= earned
        assert taken == earned * refunded // total     # proportional to the money back so far
    if refunded < total:                               # the rest, at once
        taken += rules.points_to_reverse(total=total, refunded_total=total, amount=total - refunded,
                                         points_per_yuan=rate)
    assert taken == earned


def test_the_coupon_comes_back_only_for_a_full_refund_before_shipping_while_valid():
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert rules.coupon_returns(order_state="refunded", stock_returned=True, coupon_valid_until="2026-04-01T00:00:00Z",
                                now=now)
    assert not rules.coupon_returns(order_state="refunded", stock_returned=True,
                                    coupon_valid_until="2026-02-01T00:00:00Z", now=now)
    assert not rules.coupon_returns(order_state="refunded", stock_returned=False,
                                    coupon_valid_until="2026-04-01T00:00:00Z", now=now)
    assert not rules.coupon_returns(order_state="partially_refunded", stock_returned=False,
                                    coupon_valid_until="2026-04-01T00:00:00Z", now=now)

"""Gifts for points, pure rules (marketing.rules.gift_refusal / gift_cost): whatever sequence of
redemptions and cancels viewers make, applying only what the rule accepts keeps every balance and
the gift's stock at or above zero, nobody above the per-user limit, and points and units conserved."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from livecommerce.marketing.rules import DEFAULT_GIFT_LIMIT, gift_cost, gift_refusal

USERS = ("a", "b", "c")
ops = st.lists(st.tuples(st.sampled_from(("redeem", "cancel")), st.sampled_from(USERS), st.integers(-2, 6)),
               max_size=60)


@settings(max_examples=300, deadline=None)
@given(ops=ops, price=st.integers(1, 400), limit=st.one_of(st.none(), st.integers(1, 5)),
       stock0=st.integers(0, 12), balances0=st.lists(st.integers(0, 2000), min_size=3, max_size=3))
def test_points_and_stock_never_negative_and_conserved(ops, price, limit, stock0, balances0):
    balance = dict(zip(USERS, balances0))
    stock = stock0
    held = {u: [] for u in USERS}                     # quantities of each user's redemptions not cancelled
    for op, user, quantity in ops:
        if op == "redeem":
            why = gift_refusal(points_price=price, quantity=quantity, limit=limit, held=sum(held[user]),
                               balance=balance[user], stock=stock)
            if why is None:
                balance[user] -= gift_cost(price, quantity)
                stock -= quantity
                held[user].append(quantity)
            else:
                assert why in ("gift_limit_reached", "insufficient_points", "gift_out_of_stock")
        elif held[user]:                              # cancel the user's oldest redemption: points and units back
            quantity = held[user].pop(0)
            balance[user] += gift_cost(price, quantity)
            stock += quantity
        assert min(balance.values()) >= 0 and stock >= 0
        assert all(sum(h) <= (limit or DEFAULT_GIFT_LIMIT) for h in held.values())
    outstanding = sum(sum(h) for h in held.values())
    assert stock + outstanding == stock0
    assert sum(balance.values()) + price * outstanding == sum(balances0)


@given(price=st.integers(1, 10_000), quantity=st.integers(1, 100), balance=st.integers(0, 10**7),
       stock=st.integers(0, 200), held=st.integers(0, 100), limit=st.integers(1, 100))
def test_each_refusal_names_the_condition_that_fails(price, quantity, balance, stock, held, limit):
    why = gift_refusal(points_price=price, quantity=quantity, limit=limit, held=held, balance=balance, stock=stock)
    fits = {"gift_limit_reached": held + quantity <= limit, "insufficient_points": balance >= price * quantity,
            "gift_out_of_stock": stock >= quantity}
    if why is None:
        assert all(fits.values())
    else:
        assert not fits[why]
        order = list(fits)
        assert all(fits[k] for k in order[:order.index(why)])     # the first failing condition, in order


@given(price=st.one_of(st.none(), st.integers(-5, 0)), quantity=st.integers(1, 5))
def test_a_product_without_a_positive_points_price_is_not_a_gift(price, quantity):
    assert gift_refusal(points_price=price, quantity=quantity, limit=5, held=0, balance=10**6,
                        stock=10) == "not_a_gift"

"""Orders' pure rules (hypothesis) and the typed events its producers build."""
from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from livecommerce.catalog.events import StockChanged
from livecommerce.orders import flash, rules, service
from livecommerce.orders.events import (FlashSaleEnded, FlashSaleStarted, OrderCreated, OrderPaid,
                                        OrderRefundRequired)

pids = st.sampled_from(["P1", "P2", "P3", "P4"])
wanted_st = st.dictionaries(pids, st.integers(1, 20), min_size=1)
offered_st = st.dictionaries(pids, st.tuples(st.booleans(), st.integers(0, 30)))
states = st.sampled_from([rules.PENDING, rules.PAID, rules.CANCELLED, rules.EXPIRED])


@given(wanted_st, offered_st)
def test_an_order_is_taken_only_when_every_line_is_listed_and_in_stock(wanted, offered):
    problem = rules.unsellable(wanted, offered)
    sellable = all(pid in offered and offered[pid][0] and offered[pid][1] >= qty for pid, qty in wanted.items())
    assert (problem is None) == sellable
    if problem is not None:
        code, ids = problem
        assert ids == sorted(ids) and set(ids) <= set(wanted)
        if code == "out_of_stock":      # only when everything is listed; stock never goes negative
            assert all(offered[pid][0] for pid in wanted)
            assert all(offered[pid][1] < wanted[pid] for pid in ids)


@given(st.integers(0, 10_000), st.integers(1, 10_000), states)
def test_money_is_applied_only_in_full_to_a_pending_order(amount, total, state):
    reason = rules.refund_reason(amount, total, state)
    assert (reason is None) == (amount == total and state == rules.PENDING)
    if amount == total and state == rules.PAID:
        assert reason == "already_paid"


def test_expiry_waits_for_the_grace_after_pay_by():
    assert rules.expiry_cutoff(1_000_000) == 1_000_000 - rules.EXPIRY_GRACE_SECONDS
    assert rules.payment_window_open(100, 99.9) and not rules.payment_window_open(100, 100)


def _order(**over):
    fields = dict(order_id="O1", user_id="U1", room_id="R1", kind="room", flash_sale_id=None, subtotal=1000,
                  discount=100, total=900, coupon_id=None, pay_by="2026-12-05T12:15:00Z",
                  lines=[{"product_id": "P1", "name": "Tea", "image": None, "quantity": 2, "unit_price": 500,
                          "line_total": 1000}])
    return SimpleNamespace(**{**fields, **over})


LEGACY_ORDER_DETAIL = {"order_id": "O1", "user_id": "U1", "room_id": "R1", "kind": "room", "flash_sale_id": None,
                       "subtotal": 1000, "discount": 100, "total": 900, "coupon_id": None,
                       "lines": [{"product_id": "P1", "quantity": 2, "unit_price": 500}]}


def test_order_events_publish_the_same_detail_as_the_untyped_producers():
    assert service.order_created(_order()).detail() == {**LEGACY_ORDER_DETAIL, "pay_by": "2026-12-05T12:15:00Z"}
    paid = OrderPaid(**service.order_fields(_order()), channel="wechat", transaction_id="T1", paid_at="x")
    assert paid.detail() == {**LEGACY_ORDER_DETAIL, "channel": "wechat", "transaction_id": "T1", "paid_at": "x"}
    parsed = OrderPaid.parse({**paid.detail(), "event_id": "E1", "occurred_at": "y"})
    assert parsed.total == 900 and parsed.lines[0].quantity == 2 and parsed.flash_sale_id is None
    refund = OrderRefundRequired(order_id="O1", user_id="U1", channel="alipay", transaction_id="T2", amount=1,
                                 order_total=900, reason="amount_mismatch")
    assert set(refund.detail()) == {"order_id", "user_id", "channel", "transaction_id", "amount", "order_total",
                                    "reason"}
    assert OrderCreated.detail_type == "OrderCreated"


def test_stock_changed_from_orders_leaves_out_what_it_never_sent():
    event = StockChanged(room_id="R1", product_id="P1", delta=-2, cause="order", order_id="O1")
    assert event.detail() == {"room_id": "R1", "product_id": "P1", "delta": -2, "cause": "order", "order_id": "O1"}


def _sale(**over):
    fields = dict(sale_id="S1", room_id="R1", product_id="P1", name="Tea", image=None, price=100, list_price=200,
                  stock=10, per_user_limit=2, starts_at="a", ends_at="b", sold_out=True, shards=1)
    return SimpleNamespace(**{**fields, **over})


def test_flash_sale_events_carry_the_sale_and_their_own_fields():
    started = flash._event(FlashSaleStarted, _sale(), scheduled=True)
    assert started.detail() == {"flash_sale_id": "S1", "room_id": "R1", "product_id": "P1", "name": "Tea",
                                "image": None, "price": 100, "list_price": 200, "stock": 10, "per_user_limit": 2,
                                "starts_at": "a", "ends_at": "b", "scheduled": True}
    assert "scheduled" not in flash._event(FlashSaleStarted, _sale()).detail()
    ended = flash._step_event("end", _sale(), now=None)        # sold out: no shard read
    assert isinstance(ended, FlashSaleEnded) and ended.stock_left == 0 and ended.sold_out is True

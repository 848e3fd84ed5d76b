"""The after-sale state machine (orders.after_sales) and the fulfilment rules (orders.fulfilment)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from livecommerce.orders import after_sales as m
from livecommerce.orders import fulfilment as f


@pytest.mark.parametrize("state", [m.NEW, *m.STATES])
@pytest.mark.parametrize("action", m.ACTIONS)
@pytest.mark.parametrize("role", m.ROLES)
def test_every_edge_moves_only_for_its_role_and_nothing_else_moves(state, action, role):
    edge = m.EDGES.get((state, action))
    if edge is not None and edge[1] == role:
        assert m.move(state, action, role) == edge[0]
        return
    with pytest.raises(m.Refused) as refused:
        m.move(state, action, role)
    if edge is None:
        assert refused.value.status == 409
        assert refused.value.code == ("after_sale_closed" if state in m.TERMINAL else "after_sale_wrong_state")
    else:
        assert (refused.value.status, refused.value.code) == (403, "forbidden")


def test_terminal_states_have_no_way_out_and_open_states_do():
    for (state, _), _edge in m.EDGES.items():
        assert state not in m.TERMINAL
    assert {to for to, _ in m.EDGES.values()} >= m.TERMINAL
    assert m.OPEN | m.TERMINAL == set(m.STATES)


# A step: (action, role, amount, which after-sale, shipped?) -- any order, any role, any amount.
steps = st.lists(st.tuples(st.sampled_from(m.ACTIONS), st.sampled_from(m.ROLES), st.integers(-5, 1200),
                           st.integers(0, 5)), max_size=40)


@settings(max_examples=400, deadline=None)
@given(paid=st.integers(1, 1000), ship_after=st.integers(0, 40), path=steps)
def test_no_path_refunds_twice_or_more_than_paid_and_terminal_is_terminal(paid, ship_after, path):
    """Drive the machine the way the service does (check_amount for a new request, move, then
    the ledger) with arbitrary actions, roles and amounts: whatever is refused changes nothing."""
    ledger = m.Ledger(paid)
    sales: list[dict] = []
    for i, (action, role, amount, pick) in enumerate(path):
        shipped = i >= ship_after
        if action.startswith("request"):
            action = "request_after_shipping" if shipped else "request_before_shipping"
            try:
                m.check_amount(amount, paid=ledger.paid, refunded=ledger.refunded, reserved=ledger.reserved,
                               before_shipping=not shipped)
                state = m.move(m.NEW, action, role)
            except m.Refused:
                continue
            assert role == m.BUYER
            sales.append({"state": state, "amount": amount, "settled": 0})
            ledger = m.ledger_after(ledger, action, amount)
        else:
            if not sales:
                continue
            sale = sales[pick % len(sales)]
            before = sale["state"]
            try:
                sale["state"] = m.move(before, action, role)
            except m.Refused:
                assert sale["state"] == before
                continue
            assert before not in m.TERMINAL
            assert m.EDGES[(before, action)][1] == role
            ledger = m.ledger_after(ledger, action, sale["amount"])
            if action == "refund_succeeded":
                sale["settled"] += 1
        # invariants after every step
        assert 0 <= ledger.refunded <= ledger.paid
        assert ledger.refunded + ledger.reserved <= ledger.paid
        assert all(s["settled"] <= 1 for s in sales)
        assert ledger.refunded == sum(s["amount"] for s in sales if s["state"] == m.REFUNDED)
        assert ledger.reserved == sum(s["amount"] for s in sales if s["state"] in m.OPEN)
        assert sum(1 for s in sales if s["state"] in m.OPEN) <= 1


def test_amount_rules():
    m.check_amount(300, paid=1000, refunded=0, reserved=0, before_shipping=False)
    with pytest.raises(m.Refused, match="At most 700"):
        m.check_amount(701, paid=1000, refunded=300, reserved=0, before_shipping=False)
    with pytest.raises(m.Refused) as r:
        m.check_amount(500, paid=1000, refunded=0, reserved=0, before_shipping=True)
    assert r.value.code == "partial_refund_before_shipping"
    with pytest.raises(m.Refused) as r:
        m.check_amount(1, paid=1000, refunded=1000, reserved=0, before_shipping=False)
    assert r.value.code == "nothing_to_refund"
    with pytest.raises(m.Refused) as r:
        m.check_amount(1, paid=1000, refunded=0, reserved=5, before_shipping=False)
    assert r.value.code == "after_sale_open"
    assert m.order_state_after_refund(1000, 1000) == "refunded"
    assert m.order_state_after_refund(1000, 999) == "partially_refunded"


@pytest.mark.parametrize("carrier,number,problem", [
    ("SF", "SF1234567890123", None), ("SF", "SF12345", "invalid_tracking_number"),
    ("ZTO", "731234567890", None), ("YTO", "YT1234567890123", None), ("JD", "JDVA12345678901", None),
    ("EMS", "EA123456789CN", None), ("JTSD", "JT1234567890123", None), ("JTSD", "jt1234567890123",
                                                                          "invalid_tracking_number"),
    ("DHL", "1234567890", "unknown_carrier"), ("STO", "SF1234567890123", "invalid_tracking_number"),
])
def test_tracking_numbers(carrier, number, problem):
    assert f.tracking_problem(carrier, number) == problem


def test_what_each_order_state_allows():
    assert f.ship_problem("paid", None) is None
    assert f.ship_problem("paid", "AS1") == "after_sale_open"
    assert f.ship_problem("pending_payment", None) == "order_not_paid"
    assert f.ship_problem("refunded", None) == "order_refunded"
    assert f.ship_problem("refunding", "AS1") == "order_refunded"
    assert f.ship_problem("shipped", None) == "order_already_shipped"
    assert f.receipt_problem("shipped", "t", None) is None
    assert f.receipt_problem("partially_refunded", "t", None) is None
    assert f.receipt_problem("paid", None, None) == "order_not_shipped"
    assert f.receipt_problem("delivered", "t", "t") == "order_already_received"
    assert f.state_after_receipt("shipped") == "delivered"
    assert f.state_after_receipt("partially_refunded") == "partially_refunded"
    assert f.after_sale_stage("paid", None) == "before_shipping"
    assert f.after_sale_stage("delivered", "t") == "after_shipping"
    assert f.after_sale_stage("refunding", None) is None
    assert f.after_sale_stage("pending_payment", None) is None


def test_the_window_runs_from_receipt_or_from_the_automatic_confirmation():
    shipped = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert f.after_sale_window_closes(shipped, shipped + timedelta(days=2), window_days=7,
                                      auto_receipt_days=10) == shipped + timedelta(days=9)
    assert f.after_sale_window_closes(shipped, None, window_days=7, auto_receipt_days=10) == shipped + timedelta(days=17)

"""The daily reconciliation on moto with the payment stand-ins: the real SDKs download the bills the
stand-ins build from their own records (WeChat Pay: tradebill, signed download, gzip, SHA1; Alipay:
bill download URL, zip of GBK CSV), and the report compares them with our settlements and refunds."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.integration.commerce_fixtures import key, table_items

pytestmark = pytest.mark.integration


def _paid_order(shop, payments, room_id, pid, user, channel, quantity=1, also=None):
    wechat, alipay = payments
    order = shop.ok(shop.order(user, room_id, [{"product_id": pid, "quantity": quantity}], auto_coupon=False), 201)
    if also:                                    # a second prepay, paid later: the order is paid twice
        shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/payments", user, {"channel": also}, idem=key()))
    shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/payments", user, {"channel": channel}, idem=key()))
    assert (wechat if channel == "wechat" else alipay).pay(order["id"]).acknowledged
    return order, shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", user))["payment"]


def _refund(order, payment, user, after_sale_id, amount):
    from livecommerce import payments as face

    return face.on_domain_event({"id": f"evt-{after_sale_id}", "detail-type": "AfterSaleRefundApproved", "detail": {
        "after_sale_id": after_sale_id, "order_id": order["id"], "user_id": user, "channel": payment["channel"],
        "transaction_id": payment["transaction_id"], "amount": amount, "order_total": payment["amount"],
        "reason": "不想要了"}})


@pytest.fixture
def day_of_trade(shop, payments, bus):
    """Payments on both providers, a partial and a full refund, and one order paid twice (the second payment
    refunded automatically): the bill day (today, Beijing) and what happened."""
    from livecommerce import payments as face
    from livecommerce.payments import reconciliation

    wechat, alipay = payments
    room_id, (pid,) = shop.listed_room(live_stock=50, live_price=12345)
    a, pay_a = _paid_order(shop, payments, room_id, pid, "viewer-1", "wechat", 2)     # 24690
    b, pay_b = _paid_order(shop, payments, room_id, pid, "viewer-2", "alipay")        # 12345
    c, pay_c = _paid_order(shop, payments, room_id, pid, "viewer-3", "wechat", also="alipay")
    assert _refund(a, pay_a, "viewer-1", "AS-A", 10000)["state"] == "processing"     # partial, WeChat
    assert _refund(b, pay_b, "viewer-2", "AS-B", 12345)["state"] == "succeeded"      # full, Alipay (fund_change Y)
    wechat.settle_refunds()                                                            # REFUND.SUCCESS notification
    # Order c paid again through Alipay: orders asks for a refund, which is made in full.
    assert alipay.pay(c["id"]).acknowledged
    (required,) = [d for kind, d, _ in bus if kind == "OrderRefundRequired"]
    assert face.on_domain_event({"id": "evt-dup", "detail-type": "OrderRefundRequired",
                                 "detail": required})["state"] == "succeeded"
    day = reconciliation.beijing_today().isoformat()
    return day, {"a": pay_a, "b": pay_b, "c": pay_c, "c_again": required}


def test_a_day_reconciles_clean_then_each_deliberate_mismatch_is_reported_exactly_and_a_rerun_replaces(
        payments, day_of_trade, aws_env):
    from livecommerce.payments import reconciliation

    wechat, alipay = payments
    day, paid = day_of_trade
    clean = reconciliation.run(day)
    by = {p.channel: p for p in clean.providers}
    assert [p.outcome for p in clean.providers] == ["reconciled", "reconciled"] and clean.discrepancies == []
    # WeChat: a (24690) and c (12345) paid, 10000 back; Alipay: b and c's second payment, both back in full.
    assert by["wechat"].ours.model_dump() == by["wechat"].bill.model_dump() == {
        "payments": 2, "payment_amount": 24690 + 12345, "refunds": 1, "refund_amount": 10000}
    assert by["alipay"].ours.model_dump() == by["alipay"].bill.model_dump() == {
        "payments": 2, "payment_amount": 2 * 12345, "refunds": 2, "refund_amount": 2 * 12345}

    # One amount a fen off (WeChat), one payment missing from the bill (Alipay).
    first_wechat = next(e for e in wechat.bill_entries(day) if e.kind == "payment")
    first_alipay = next(e for e in alipay.bill_entries(day) if e.kind == "payment")
    wechat.bill_fault, alipay.bill_fault = "amount_off", "missing_row"
    report = reconciliation.run(day)
    assert [(d.kind, d.channel, d.entry_type, d.entry, d.order_id, d.ours, d.bill) for d in report.discrepancies] == [
        ("amount_mismatch", "wechat", "payment", first_wechat.transaction_id, first_wechat.order_id,
         first_wechat.amount, first_wechat.amount + 1),
        ("missing_in_bill", "alipay", "payment", first_alipay.transaction_id, first_alipay.order_id,
         first_alipay.amount, None)]
    assert [p.outcome for p in report.providers] == ["discrepancies", "discrepancies"]
    # A payment we never heard of (WeChat).
    wechat.bill_fault, alipay.bill_fault = "extra_row", ""
    report = reconciliation.run(day)
    (extra,) = report.discrepancies
    assert (extra.kind, extra.channel, extra.entry_type, extra.order_id, extra.ours, extra.bill) == (
        "extra_in_bill", "wechat", "payment", "EXTRA" + day.replace("-", ""), None, 4321)
    assert extra.entry not in {first_wechat.transaction_id, paid["a"]["transaction_id"], paid["c"]["transaction_id"]}
    # Re-runs replaced the report: one item for the day, the last run's, counting the runs.
    assert reconciliation.get(day) == report and report.runs == 3
    assert len(table_items(aws_env, "payments", f"RECON#{day}")) == 1


def test_a_broken_bill_and_no_bill_yet_are_recorded_outcomes_and_the_api_serves_the_report(
        shop, payments, day_of_trade, monkeypatch):
    from livecommerce.payments import reconciliation

    wechat, alipay = payments
    day, _ = day_of_trade
    # The API: the day must be over before it is run; a day after today and a malformed one are 422.
    today = date.fromisoformat(day)
    assert shop.call("GET", f"/v1/reconciliation/{day}", "operator-1").status == 404
    assert shop.call("GET", f"/v1/reconciliation/{day}", "operator-1").json()["code"] == "reconciliation_not_run"
    assert shop.call("POST", f"/v1/reconciliation/{day}/runs", "operator-1").json()["code"] == "day_not_over"
    future = (today + timedelta(days=2)).isoformat()
    for path, code in ((f"/v1/reconciliation/{future}", "date_in_future"),
                       ("/v1/reconciliation/2024-02-30", "invalid_date"),
                       ("/v1/reconciliation/2024-1-5", "validation_failed")):
        answer = shop.call("GET", path, "operator-1")
        assert answer.status == 422 and answer.json()["code"] == code, (path, answer.json())
    assert shop.call("GET", f"/v1/reconciliation/{day}", "viewer-1").status == 403

    # Tomorrow (Beijing), the day is over: a broken WeChat bill, no Alipay bill yet.
    monkeypatch.setattr(reconciliation, "beijing_today", lambda now=None: today + timedelta(days=1))
    wechat.bill_fault, alipay.bill_fault = "broken", "no_statement"
    answer = shop.call("POST", f"/v1/reconciliation/{day}/runs", "operator-1")
    assert answer.status == 200, answer.json()
    by = {p["channel"]: p for p in answer.json()["providers"]}
    assert (by["wechat"]["outcome"], by["wechat"]["code"]) == ("bill_unparsable", "bill_unparsable")
    assert (by["alipay"]["outcome"], by["alipay"]["code"]) == ("bill_not_ready", "isp.bill_not_exist")
    assert [(d["kind"], d["channel"]) for d in answer.json()["discrepancies"]] == [("bill_unparsable", "wechat")]
    assert shop.call("GET", f"/v1/reconciliation/{day}", "operator-1").json() == answer.json()
    # WeChat Pay's own "no bill": NO_STATEMENT_EXIST. The schedule comes back for an incomplete day
    # (the 14:30 slot) and leaves a complete one alone.
    wechat.bill_fault = "no_statement"
    again = reconciliation.scheduled()
    assert again is not None and again.trigger == "schedule" and again.runs == 2
    assert {p.channel: (p.outcome, p.code) for p in again.providers} == {
        "wechat": ("bill_not_ready", "NO_STATEMENT_EXIST"), "alipay": ("bill_not_ready", "isp.bill_not_exist")}
    wechat.bill_fault = alipay.bill_fault = ""
    assert [p.outcome for p in reconciliation.scheduled().providers] == ["reconciled", "reconciled"]
    assert reconciliation.scheduled() is None                    # complete: the later slot does nothing

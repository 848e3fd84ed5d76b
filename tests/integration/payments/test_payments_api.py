"""WeChat Pay v3 and Alipay payments end to end: the real SDKs make real HTTP calls to the
stand-ins, which send properly signed notifications back through the API Gateway emulation."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.commerce_fixtures import key, table_items

pytestmark = pytest.mark.integration


@pytest.fixture
def order(shop, payments):
    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=12345)
    return shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 2}], auto_coupon=False), 201)


def _pay_params(shop, order, channel, idem=None, user="viewer-1"):
    return shop.call("POST", f"/v1/orders/{order['id']}/payments", user, {"channel": channel}, idem=idem or key())


def _state(shop, order):
    return shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", "viewer-1"))


def _events(session):
    from local.event_delivery import drain
    from local.resources import LocalNames

    drain(session, LocalNames())
    found = [dict(i) for i in table_items(session, "eventlog") if "detail_type" in i]
    for item in found:
        if isinstance(item.get("detail"), str):
            item["detail"] = json.loads(item["detail"])
    return found


def test_wechat_pay_end_to_end(shop, payments, order, seeded):
    wechat, _ = payments
    params = shop.ok(_pay_params(shop, order, "wechat"))
    wx = params["wechat"]
    assert params["amount"] == 24690 and wx["appId"] == "wx-test-app" and wx["signType"] == "RSA"
    assert wx["package"].startswith("prepay_id=wx") and wx["paySign"]
    trade = wechat.trades[order["id"]]
    assert trade.amount == 24690 and trade.notify_url == "https://api.local.test/v1/payments/wechat/notify"
    # Asking again (a retry, or the buyer reopening the page) reuses the prepay.
    assert shop.ok(_pay_params(shop, order, "wechat"))["wechat"]["package"] == wx["package"]

    note = wechat.pay(order["id"])
    assert note.status == 200 and note.acknowledged, note.reply
    paid = _state(shop, order)
    assert paid["state"] == "paid" and paid["payment"]["channel"] == "wechat"
    assert paid["payment"]["transaction_id"] == trade.transaction_id and paid["payment"]["amount"] == 24690

    # WeChat Pay retries: the same notification again, re-signed; nothing changes.
    again = wechat.resend(order["id"])
    assert again.status == 200 and again.acknowledged
    types = [e["detail_type"] for e in _events(seeded)]
    assert types.count("OrderPaid") == 1 and "OrderRefundRequired" not in types
    # The paid order earned points (1 per yuan) through the OrderPaid consumer, once.
    assert shop.ok(shop.call("GET", "/v1/me/points", "viewer-1"))["balance"] == 246
    refused = _pay_params(shop, order, "alipay")
    assert refused.status == 409 and refused.json()["code"] == "order_already_paid"
    cancel = shop.call("POST", f"/v1/orders/{order['id']}/cancel", "viewer-1")
    assert cancel.status == 409


def test_alipay_end_to_end(shop, payments, order, seeded):
    _, alipay = payments
    params = shop.ok(_pay_params(shop, order, "alipay"))
    trade_no = params["alipay"]["tradeNO"]
    trade = alipay.trades[order["id"]]
    assert trade.trade_no == trade_no and trade.total_amount == "246.90"
    assert trade.buyer["buyer_id"].startswith("2088") and len(trade.buyer["buyer_id"]) == 16
    note = alipay.pay(order["id"])
    assert note.acknowledged, (note.status, note.reply)
    paid = _state(shop, order)
    assert paid["state"] == "paid" and paid["payment"] == {
        "channel": "alipay", "transaction_id": trade_no, "amount": 24690, "paid_at": paid["paid_at"]}
    assert alipay.resend(order["id"]).acknowledged
    trade.status = "TRADE_FINISHED"     # Alipay's later "finished" notice for the same trade
    assert alipay.deliver(alipay.build_notification(order["id"])).acknowledged
    assert [e["detail_type"] for e in _events(seeded)].count("OrderPaid") == 1


def test_payment_request_rules(shop, payments, order):
    assert _pay_params(shop, order, "wechat", user="viewer-2").status == 404
    assert shop.call("POST", f"/v1/orders/{order['id']}/payments", "viewer-1", {"channel": "paypal"},
                     idem=key()).status == 422
    assert shop.call("POST", f"/v1/orders/{order['id']}/payments", "viewer-1",
                     {"channel": "wechat", "amount": 1}, idem=key()).status == 422
    assert shop.call("POST", f"/v1/orders/{order['id']}/payments", "viewer-1", {"channel": "wechat"}).status == 422
    k = key()
    first = shop.ok(_pay_params(shop, order, "wechat", idem=k))
    assert shop.ok(_pay_params(shop, order, "wechat", idem=k)) == first
    reused = _pay_params(shop, order, "alipay", idem=k)
    assert reused.status == 422 and reused.json()["code"] == "idempotency_key_reused"
    shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/cancel", "viewer-1"))
    closed = _pay_params(shop, order, "wechat")
    assert closed.status == 409 and closed.json()["code"] == "order_not_payable"


def test_provider_busy_is_a_retryable_503(shop, payments, order):
    wechat, alipay = payments
    wechat.inject_fault(busy=1)
    busy = _pay_params(shop, order, "wechat")
    assert busy.status == 503 and busy.json()["code"] == "payment_provider_unavailable"
    assert _pay_params(shop, order, "wechat").status == 200
    alipay.inject_fault(busy=1)
    assert _pay_params(shop, order, "alipay").status == 503
    wechat.inject_fault(tamper=1)
    # A tampered answer (signature no longer matches) is never trusted.
    room_id, (pid,) = shop.listed_room()
    other = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}]), 201)
    tampered = shop.call("POST", f"/v1/orders/{other['id']}/payments", "viewer-1", {"channel": "wechat"}, idem=key())
    assert tampered.status == 502 and tampered.json()["code"] == "payment_provider_error"


def _notify(shop, note):
    from urllib.parse import urlsplit

    return shop.api.call("POST", urlsplit(note.url).path, headers=note.headers, raw_body=note.body)


@pytest.mark.parametrize("forgery", ["stale", "future", "serial", "signature", "body", "apiv3_key", "no_headers"])
def test_forged_or_stale_wechat_notifications_change_nothing(shop, payments, order, forgery):
    from cryptography.hazmat.primitives.asymmetric import rsa

    wechat, _ = payments
    shop.ok(_pay_params(shop, order, "wechat"))
    wechat.pay(order["id"], deliver=False)
    kwargs = {"stale": {"timestamp": int(time.time()) - 301}, "future": {"timestamp": int(time.time()) + 400},
              "serial": {"serial": "PUB_KEY_ID_NOT_OURS"},
              "signature": {"sign_with": rsa.generate_private_key(public_exponent=65537, key_size=2048)},
              "body": {"tamper_body": True}, "apiv3_key": {"apiv3_key": "0" * 32}, "no_headers": {}}[forgery]
    note = wechat.build_notification(order["id"], **kwargs)
    if forgery == "no_headers":
        note.headers = {"Content-Type": "application/json"}
    response = _notify(shop, note)
    assert response.status == 400 and response.json()["code"] == "FAIL", response.body
    assert _state(shop, order)["state"] == "pending_payment"
    # The genuine notification still works afterwards.
    assert _notify(shop, wechat.build_notification(order["id"])).json()["code"] == "SUCCESS"
    assert _state(shop, order)["state"] == "paid"


@pytest.mark.parametrize("forgery", ["signature", "app_id", "stale", "amount_field"])
def test_forged_alipay_notifications_change_nothing(shop, payments, order, forgery):
    from cryptography.hazmat.primitives.asymmetric import rsa

    _, alipay = payments
    shop.ok(_pay_params(shop, order, "alipay"))
    alipay.pay(order["id"], deliver=False)
    if forgery == "signature":
        note = alipay.build_notification(order["id"], sign_with=rsa.generate_private_key(public_exponent=65537,
                                                                                         key_size=2048))
    elif forgery == "app_id":
        note = alipay.build_notification(order["id"], app_id="2021000000009999")
    elif forgery == "stale":
        note = alipay.build_notification(order["id"], notify_time=datetime.now(timezone.utc) - timedelta(days=2))
    else:
        note = alipay.build_notification(order["id"])
        note.params["total_amount"] = "0.01"     # changed after signing
    response = _notify(shop, note)
    assert response.status == 400 and response.body == "fail"
    assert _state(shop, order)["state"] == "pending_payment"


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_amount_mismatch_is_not_paid_and_is_flagged_for_refund(shop, payments, order, seeded, channel):
    wechat, alipay = payments
    shop.ok(_pay_params(shop, order, channel))
    note = wechat.pay(order["id"], amount=1) if channel == "wechat" else alipay.pay(order["id"], amount="0.01")
    assert note.acknowledged          # acknowledged (no retries), but not applied
    assert _state(shop, order)["state"] == "pending_payment"
    settlements = [i for i in table_items(seeded, "orders", f"ORDER#{order['id']}") if i["sk"].startswith("TXN#")]
    assert len(settlements) == 1 and settlements[0]["outcome"] == "refund_required"
    assert settlements[0]["reason"] == "amount_mismatch"
    events = [e for e in _events(seeded) if e["detail_type"] == "OrderRefundRequired"]
    assert len(events) == 1 and events[0]["detail"]["reason"] == "amount_mismatch"


def test_paying_twice_through_both_channels_flags_the_second_for_refund(shop, payments, order, seeded):
    wechat, alipay = payments
    shop.ok(_pay_params(shop, order, "wechat"))
    shop.ok(_pay_params(shop, order, "alipay"))
    assert wechat.pay(order["id"]).acknowledged
    assert alipay.pay(order["id"]).acknowledged
    paid = _state(shop, order)
    assert paid["state"] == "paid" and paid["payment"]["channel"] == "wechat"
    outcomes = sorted(i["outcome"] for i in table_items(seeded, "orders", f"ORDER#{order['id']}")
                      if i["sk"].startswith("TXN#"))
    assert outcomes == ["applied", "refund_required"]
    types = [e["detail_type"] for e in _events(seeded)]
    assert types.count("OrderPaid") == 1 and types.count("OrderRefundRequired") == 1


def test_payment_for_a_cancelled_order_is_flagged_for_refund(shop, payments, order, seeded):
    wechat, _ = payments
    shop.ok(_pay_params(shop, order, "wechat"))
    shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/cancel", "viewer-1"))
    assert wechat.pay(order["id"]).acknowledged
    assert _state(shop, order)["state"] == "cancelled"
    events = [e for e in _events(seeded) if e["detail_type"] == "OrderRefundRequired"]
    assert [e["detail"]["reason"] for e in events] == ["order_cancelled"]


def test_duplicate_notifications_in_parallel_apply_once(shop, payments, order, seeded):
    import threading

    wechat, _ = payments
    shop.ok(_pay_params(shop, order, "wechat"))
    first = wechat.pay(order["id"], deliver=False)
    copies = [wechat.build_notification(order["id"]) for _ in range(8)] + [first] * 4
    results = []

    def send(note):
        results.append(_notify(shop, note))

    threads = [threading.Thread(target=send, args=(n,)) for n in copies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.status < 500 for r in results), [r.body for r in results]
    assert _state(shop, order)["state"] == "paid"
    types = [e["detail_type"] for e in _events(seeded)]
    assert types.count("OrderPaid") == 1 and "OrderRefundRequired" not in types
    assert len([i for i in table_items(seeded, "orders", f"ORDER#{order['id']}") if i["sk"].startswith("TXN#")]) == 1


def test_stand_ins_can_be_told_to_pay_over_http(shop, payments, order):
    import json
    import urllib.request

    wechat, _ = payments
    shop.ok(_pay_params(shop, order, "wechat"))
    request = urllib.request.Request(wechat.base_url + "/__standin/pay", method="POST",
                                     data=json.dumps({"out_trade_no": order["id"]}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        answer = json.loads(resp.read())
    assert answer["acknowledged"] is True and answer["transaction_id"].startswith("4200")
    assert _state(shop, order)["state"] == "paid"

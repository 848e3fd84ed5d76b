"""Refunds end to end on moto with the payment stand-ins: the real SDKs call the stand-ins, which
answer as WeChat Pay / Alipay and send signed (WeChat: AES-GCM encrypted) refund notifications
back through the API Gateway emulation. Every paid fen ends as goods or as exactly one refund."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.commerce_fixtures import key, table_items

pytestmark = pytest.mark.integration


@pytest.fixture
def order(shop, payments):
    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=12345)
    return shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 2}], auto_coupon=False), 201)


def _pay(shop, payments, order, channel):
    wechat, alipay = payments
    shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/payments", "viewer-1", {"channel": channel}, idem=key()))
    note = (wechat if channel == "wechat" else alipay).pay(order["id"])
    assert note.acknowledged
    return shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", "viewer-1"))["payment"]


def _after_sale(order, payment, after_sale_id, amount):
    return {"id": f"evt-{after_sale_id}", "detail-type": "AfterSaleRefundApproved", "detail": {
        "after_sale_id": after_sale_id, "order_id": order["id"], "user_id": "viewer-1",
        "channel": payment["channel"], "transaction_id": payment["transaction_id"], "amount": amount,
        "order_total": payment["amount"], "reason": "不想要了"}}


def _published(bus, detail_type):
    return [detail for kind, detail, _ in bus if kind == detail_type]


def test_wechat_partial_refunds_once_never_more_than_paid_and_forged_results_change_nothing(
        shop, payments, order, bus, api):
    from livecommerce import payments as face
    from livecommerce.payments import refund_rules

    wechat, _ = payments
    payment = _pay(shop, payments, order, "wechat")                      # 24690 fen
    first = face.on_domain_event(_after_sale(order, payment, "AS1", 10000))
    assert first["state"] == "processing" and first["refund_id"] == refund_rules.after_sale_refund_id("AS1")
    # The same approval delivered again (EventBridge is at least once): the same refund, no second one.
    assert face.on_domain_event(_after_sale(order, payment, "AS1", 10000))["refund_id"] == first["refund_id"]
    assert len(wechat.refunds) == 1 and wechat.refunds[first["refund_id"]].amount == 10000
    # More than what is left of the payment (14690 fen): refused here, nothing asked of WeChat Pay.
    over = face.on_domain_event(_after_sale(order, payment, "AS2", 20000))
    assert over["state"] == "failed" and len(wechat.refunds) == 1
    failed = _published(bus, "RefundFailed")
    assert [f["provider_code"] for f in failed] == [refund_rules.OVER_REFUND] and failed[0]["after_sale_id"] == "AS2"

    # Forged and stale refund notifications: FAIL, and the refund stays open.
    wechat.refund_notify = "hold"
    wechat.settle_refunds()
    from local.standins import generate_key_pair
    from cryptography.hazmat.primitives import serialization

    stranger = serialization.load_pem_private_key(generate_key_pair()[0].encode(), password=None)
    forgeries = [wechat.build_refund_notification(first["refund_id"], sign_with=stranger),
                 wechat.build_refund_notification(first["refund_id"], timestamp=int(datetime.now().timestamp()) - 900),
                 wechat.build_refund_notification(first["refund_id"], apiv3_key="k" * 32),
                 wechat.build_refund_notification(first["refund_id"], amount=24690)]
    for forged in forgeries:
        wechat.deliver(forged)
        assert forged.status == 400 and json.loads(forged.reply)["code"] == "FAIL"
    assert not _published(bus, "RefundSucceeded")
    # The genuine one, delivered twice (a duplicate) and re-signed again later: applied once.
    wechat.release_refund_notifications()
    again = wechat.resend_refund(first["refund_id"])
    wechat.deliver(again)
    assert again.status == 200
    succeeded = _published(bus, "RefundSucceeded")
    assert len(succeeded) == 1 and succeeded[0]["amount"] == 10000 and succeeded[0]["cause"] == "after_sale"
    assert succeeded[0]["after_sale_id"] == "AS1" and succeeded[0]["transaction_id"] == payment["transaction_id"]
    # The 14690 fen left can still go back (the failed ask reserved nothing).
    assert face.on_domain_event(_after_sale(order, payment, "AS3", 14690))["state"] == "processing"
    over_again = face.on_domain_event(_after_sale(order, payment, "AS4", 1))
    assert over_again["state"] == "failed"

    day = datetime.now(timezone.utc)
    records = face.refunds_between((day - timedelta(hours=1)).isoformat(), (day + timedelta(hours=1)).isoformat())
    by_id = {r.refund_id: r for r in records}
    assert by_id[first["refund_id"]].state == "succeeded" and by_id[first["refund_id"]].provider_refund_id
    assert sorted(r.amount for r in records if r.state != "failed") == [10000, 14690]


def test_lost_after_commit_then_retry_refunds_once(shop, payments, order, bus, monkeypatch):
    """A crash between WeChat Pay's answer and our write; the minute poll finds the refund by its id."""
    from livecommerce import payments as face
    from livecommerce.payments import refunds

    wechat, _ = payments
    payment = _pay(shop, payments, order, "wechat")
    real = refunds._apply_wechat
    monkeypatch.setattr(refunds, "_apply_wechat", lambda item, doc: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        face.on_domain_event(_after_sale(order, payment, "AS9", 24690))
    monkeypatch.setattr(refunds, "_apply_wechat", real)
    # The redelivered event and the poll both go through the same refund id: WeChat Pay holds one refund.
    assert face.on_domain_event(_after_sale(order, payment, "AS9", 24690))["state"] == "processing"
    wechat.refund_notify = "drop"                  # no notification: only a query tells the result
    wechat.settle_refunds()
    assert refunds.poll_open_refunds(older_than_seconds=-5) == 1
    assert refunds.poll_open_refunds(older_than_seconds=-5) == 0
    assert len(wechat.refunds) == 1 and len(_published(bus, "RefundSucceeded")) == 1


def test_alipay_pays_twice_second_payment_is_refunded_once(shop, payments, order, bus, api):
    """Paid by WeChat Pay, then by Alipay too: orders asks for a refund; the consumer refunds the Alipay
    transaction in full; Alipay's answer (fund_change Y) and its duplicated notification apply once."""
    from livecommerce import payments as face

    wechat, alipay = payments
    shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/payments", "viewer-1", {"channel": "alipay"}, idem=key()))
    _pay(shop, payments, order, "wechat")
    note = alipay.pay(order["id"])
    assert note.acknowledged
    (required,) = _published(bus, "OrderRefundRequired")
    assert required["reason"] == "already_paid" and required["channel"] == "alipay"
    event = {"id": "evt-r", "detail-type": "OrderRefundRequired", "detail": required}
    alipay.refund_notify = "duplicate"
    result = face.on_domain_event(event)
    assert result["state"] == "succeeded"
    assert face.on_domain_event(event)["refund_id"] == result["refund_id"]      # redelivered: same refund
    (refund,) = alipay.refunds.values()
    assert refund.amount == "246.90" and refund.out_request_no == result["refund_id"]
    assert all(n.status == 200 and n.acknowledged for n in refund.notifications)
    succeeded = _published(bus, "RefundSucceeded")
    assert len(succeeded) == 1 and succeeded[0]["cause"] == "already_paid" and succeeded[0]["amount"] == 24690
    # A forged Alipay refund notification: refused in Alipay's format.
    from local.standins import generate_key_pair
    from cryptography.hazmat.primitives import serialization

    stranger = serialization.load_pem_private_key(generate_key_pair()[0].encode(), password=None)
    forged = alipay.build_refund_notification(result["refund_id"], sign_with=stranger)
    alipay.deliver(forged)
    assert forged.status == 400 and forged.reply == "fail"
    # The WeChat payment that was applied stays paid.
    assert shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", "viewer-1"))["state"] == "paid"


def test_before_expiry_a_found_payment_is_applied_and_an_unpaid_one_is_closed(shop, payments, bus, clock):
    from livecommerce import payments as face
    from livecommerce.orders import service as order_service

    wechat, alipay = payments
    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=500)
    paid_quietly = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}],
                                      auto_coupon=False), 201)
    unpaid = shop.ok(shop.order("viewer-2", room_id, [{"product_id": pid, "quantity": 1}], auto_coupon=False), 201)
    shop.ok(shop.call("POST", f"/v1/orders/{paid_quietly['id']}/payments", "viewer-1", {"channel": "wechat"},
                      idem=key()))
    shop.ok(shop.call("POST", f"/v1/orders/{unpaid['id']}/payments", "viewer-2", {"channel": "alipay"}, idem=key()))
    wechat.pay(paid_quietly["id"], deliver=False)         # the notification never arrives
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    expired = order_service.expire_overdue(now_epoch=later.timestamp(), before_close=face.settle_before_expiry)
    assert expired == 1
    assert shop.ok(shop.call("GET", f"/v1/orders/{paid_quietly['id']}", "viewer-1"))["state"] == "paid"
    assert shop.ok(shop.call("GET", f"/v1/orders/{unpaid['id']}", "viewer-2"))["state"] == "expired"
    assert alipay.trades[unpaid["id"]].status == "TRADE_CLOSED"
    with pytest.raises(ValueError):
        alipay.pay(unpaid["id"], allow_expired=True)            # closed at the provider: cannot be paid
    assert len(_published(bus, "OrderPaid")) == 1


def test_racing_refunds_and_a_throttled_provider_never_refund_more_than_paid(shop, payments, order, bus):
    """Eight after-sales of 10000 fen race on one 24690 fen payment (conditional-check conflicts on the
    transaction's refunded sum); WeChat Pay is busy for the first calls (SYSTEM_ERROR: stays open, the
    poll retries under the same id). At the end the refunded fen are exactly what was accepted, <= paid."""
    from concurrent.futures import ThreadPoolExecutor

    from livecommerce import payments as face
    from livecommerce.payments import refunds

    wechat, _ = payments
    payment = _pay(shop, payments, order, "wechat")
    wechat.inject_fault(busy=3)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: face.on_domain_event(_after_sale(order, payment, f"R{n}", 10000)),
                                range(8)))
    accepted = [r for r in results if r["state"] != "failed"]
    assert len(accepted) == 2 and len(_published(bus, "RefundFailed")) == 6
    wechat.refund_notify = "drop"
    for _ in range(3):
        refunds.poll_open_refunds(older_than_seconds=-5)
        wechat.settle_refunds()
    refunds.poll_open_refunds(older_than_seconds=-5)
    assert len(wechat.refunds) == 2 and sum(r.amount for r in wechat.refunds.values()) == 20000
    succeeded = _published(bus, "RefundSucceeded")
    assert sorted(e["refund_id"] for e in succeeded) == sorted(r["refund_id"] for r in accepted)


def test_refund_notifications_released_in_reverse_order_and_duplicated_apply_each_refund_once(
        shop, payments, order, bus):
    """Two partial refunds of one WeChat payment; their notifications held, then delivered newest first and
    each again (reordered and duplicated): each refund succeeds once, the sum never exceeds what was paid."""
    from livecommerce import payments as face

    wechat, _ = payments
    payment = _pay(shop, payments, order, "wechat")                      # 24690 fen
    first = face.on_domain_event(_after_sale(order, payment, "ASR1", 4000))
    second = face.on_domain_event(_after_sale(order, payment, "ASR2", 6000))
    wechat.refund_notify = "hold"
    wechat.settle_refunds()
    held = list(wechat.held_refund_notifications)
    assert len(held) == 2
    released = wechat.release_refund_notifications(reverse=True)
    assert all(n.status == 200 for n in released)
    for note in reversed(held):                                            # each delivered once more
        wechat.deliver(wechat.resend_refund(json_ids(wechat, note)))
    succeeded = _published(bus, "RefundSucceeded")
    assert [e["refund_id"] for e in succeeded] == [second["refund_id"], first["refund_id"]]   # newest first
    assert sorted(e["amount"] for e in succeeded) == [4000, 6000]
    day = datetime.now(timezone.utc)
    records = face.refunds_between((day - timedelta(hours=1)).isoformat(), (day + timedelta(hours=1)).isoformat())
    assert sorted((r.refund_id, r.state) for r in records) == sorted(
        [(first["refund_id"], "succeeded"), (second["refund_id"], "succeeded")])


def json_ids(wechat, note) -> str:
    """The out_refund_no a held WeChat refund notification is for."""
    return next(no for no, refund in wechat.refunds.items() if note in refund.notifications)

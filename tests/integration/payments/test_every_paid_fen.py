"""Issue 12's closing claim, as one ledger over one day on moto with both payment stand-ins: every fen a
provider took ends as exactly one of delivered goods or refunded money, no fen is refunded twice, and the
day reconciles clean. The scenarios run together, their events delivered through the bus to the real
consumers (refunds, order_events), and money is read from the stand-ins' own records (their bills):

normal pay, ship, receive | paid twice (the second refunded) | paid after expiry (refunded) | an amount
that does not match (refunded) | after-sale before shipping (full refund, stock back) | after shipping: a
partial refund approved, another asked and rejected | a points gift (0 fen, never money)."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.commerce_fixtures import ADDRESS, key

pytestmark = pytest.mark.integration

PRICE = 12345


def _deliver(session) -> int:
    """Every event waiting for the money consumers (refunds, order_events), until none is left."""
    from local.event_delivery import drain_queue
    from local.resources import LocalNames, delivery_queue_name

    sqs = session.client("sqs")
    queues = [(sqs.get_queue_url(QueueName=delivery_queue_name(LocalNames(), name))["QueueUrl"], function)
              for name, function in (("Refunds", "refunds"), ("OrderRefunds", "order_events"))]
    total = 0
    while True:
        handled = sum(drain_queue(sqs, url, function) for url, function in queues)
        total += handled
        if not handled:
            return total


def test_every_paid_fen_ends_as_delivered_goods_or_refunded_money(shop, payments, aws_env, clock):
    from livecommerce.marketing import service as marketing
    from livecommerce.orders import service as order_service
    from livecommerce.payments import reconciliation

    wechat, alipay = payments
    stand_in = {"wechat": wechat, "alipay": alipay}
    room_id, (pid,) = shop.listed_room(live_stock=50, live_price=PRICE)
    orders: dict[str, dict] = {}

    def order(name, user, quantity=1):
        orders[name] = shop.ok(shop.order(user, room_id, [{"product_id": pid, "quantity": quantity}],
                                          auto_coupon=False), 201)
        return orders[name]["id"]

    def prepay(order_id, user, channel):
        shop.ok(shop.call("POST", f"/v1/orders/{order_id}/payments", user, {"channel": channel}, idem=key()))

    def pay(order_id, user, channel, **kw):
        prepay(order_id, user, channel)
        assert stand_in[channel].pay(order_id, **kw).acknowledged

    def ship(order_id, number):
        return shop.ok(shop.call("POST", f"/v1/orders/{order_id}/shipments", "host-1",
                                 {"carrier": "SF", "tracking_number": number}))

    def state(name, user):
        return shop.ok(shop.call("GET", f"/v1/orders/{orders[name]['id']}", user))

    stock_before = shop.cards(room_id)[pid]["stock_left"]

    # 1. Paid, shipped, received.
    pay(order("normal", "viewer-1"), "viewer-1", "wechat")
    ship(orders["normal"]["id"], "SF100000000001")
    shop.ok(shop.call("POST", f"/v1/orders/{orders['normal']['id']}/receipt", "viewer-1"))
    # 2. Paid twice (Alipay, then WeChat Pay for the same order): the second payment is refunded.
    twice = order("twice", "viewer-2")
    prepay(twice, "viewer-2", "wechat")
    pay(twice, "viewer-2", "alipay")
    assert wechat.pay(twice).acknowledged
    ship(twice, "SF100000000004")
    # 3. Not paid in time: expired (the close at the provider is lost), then paid anyway: refunded.
    late = order("late", "viewer-3")
    prepay(late, "viewer-3", "alipay")
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    assert order_service.expire_overdue(now_epoch=later.timestamp()) >= 1
    assert state("late", "viewer-3")["state"] == "expired"
    assert alipay.pay(late, allow_expired=True).acknowledged
    # 4. WeChat Pay reports another amount than the order's: not applied, refunded.
    mismatch = order("mismatch", "viewer-4")
    pay(mismatch, "viewer-4", "wechat", amount=PRICE - 100)
    # 5. After-sale before shipping: the whole order back at once, the units back on the shelf.
    before = order("before", "viewer-5", quantity=2)
    pay(before, "viewer-5", "alipay")
    asked = shop.call("POST", f"/v1/orders/{before}/after-sales", "viewer-5", {}, idem=key())
    assert asked.status in (200, 201), asked.body
    # 6. After shipping: a partial refund approved by the host; another order's after-sale rejected.
    partial = order("partial", "viewer-6", quantity=2)
    pay(partial, "viewer-6", "wechat")
    ship(partial, "SF100000000002")
    made = shop.ok(shop.call("POST", f"/v1/orders/{partial}/after-sales", "viewer-6",
                             {"amount": 5000, "reason": "尺码不合适"}, idem=key()))
    shop.ok(shop.call("POST", f"/v1/after-sales/{made['id']}/approve", "host-1", {}))
    rejected = order("rejected", "viewer-7")
    pay(rejected, "viewer-7", "alipay")
    ship(rejected, "SF100000000003")
    made = shop.ok(shop.call("POST", f"/v1/orders/{rejected}/after-sales", "viewer-7",
                             {"amount": 2000, "reason": "不喜欢"}, idem=key()))
    shop.ok(shop.call("POST", f"/v1/after-sales/{made['id']}/reject", "host-1", {"note": "已穿过"}))
    # 7. A gift for points: an order of 0 fen, never money.
    gift = shop.ok(shop.call("POST", "/v1/products", "operator-1", {
        "name": "保温杯", "images": ["https://img.example.com/cup.jpg"], "list_price": 5900, "stock": 3,
        "points_price": 300}))
    marketing.award_points("viewer-8", 300, reason="quiz", ref="quiz:ledger")
    redeemed = shop.call("POST", "/v1/points/redemptions", "viewer-8", {
        "kind": "gift", "product_id": gift["id"], "quantity": 1, "address": ADDRESS}, idem=key())
    assert redeemed.status == 201, redeemed.body

    # Refunds: asked through the bus, answered by the providers (WeChat: settled, then notified).
    for _ in range(3):
        _deliver(aws_env)
        wechat.settle_refunds()
    _deliver(aws_env)

    # -- the ledger, from the stand-ins' records -------------------------------------------------
    day = reconciliation.beijing_today().isoformat()
    entries = wechat.bill_entries(day) + alipay.bill_entries(day)
    paid = defaultdict(int)
    refunded = defaultdict(int)
    refund_ids = [e.refund_id for e in entries if e.kind == "refund"]
    for e in entries:
        (paid if e.kind == "payment" else refunded)[(e.channel, e.transaction_id)] += e.amount
    assert len(refund_ids) == len(set(refund_ids))                       # no refund twice
    assert set(refunded) <= set(paid)
    # What each order kept: its goods' value (total less what went back); every other transaction: nothing.
    views = {name: state(name, o["user_id"] if "user_id" in o else None) for name, o in orders.items()}
    applied = {(v["payment"]["channel"], v["payment"]["transaction_id"]): (name, v)
               for name, v in views.items() if v.get("payment") and v["state"] not in ("expired",)}
    ledger = {}
    for txn, amount in paid.items():
        kept = amount - refunded[txn]
        assert 0 <= kept, (txn, amount, refunded[txn])
        name, view = applied.get(txn, (None, None))
        goods = 0
        if view is not None and view["state"] in ("delivered", "shipped", "partially_refunded"):
            goods = view["total"] - int(view.get("refunded_amount") or 0)
        ledger[name or txn[1]] = (amount, goods, refunded[txn])
        assert amount == goods + refunded[txn], (
            name, txn, [n for n, o in orders.items() if any(e.transaction_id == txn[1] and e.order_id == o["id"]
                                                          for e in entries)],
            [(e.kind, e.order_id, e.amount) for e in entries if e.transaction_id == txn[1]],
            {n: o["id"] for n, o in orders.items()}, amount, goods, refunded[txn])
    by_name = {name: ledger.get(name) for name in orders}
    assert by_name["normal"] == (PRICE, PRICE, 0) and views["normal"]["state"] == "delivered"
    assert by_name["before"] == (2 * PRICE, 0, 2 * PRICE) and views["before"]["state"] == "refunded"
    assert by_name["partial"] == (2 * PRICE, 2 * PRICE - 5000, 5000)
    assert by_name["rejected"] == (PRICE, PRICE, 0) and views["rejected"]["state"] == "shipped"
    extra = {txn: (paid[txn], refunded[txn]) for txn in paid if txn not in applied}
    # the second payment of "twice", the late one and the mismatched one: each refunded in full
    assert len(extra) == 3 and all(p == r for p, r in extra.values()), extra
    assert sum(paid.values()) == sum(g + r for _, g, r in ledger.values())
    # Stock: normal 1, twice 1, partial 2, rejected 1 went out as goods; the mismatched order (unpaid) still
    # holds its unit until it expires; the expired one and the before-shipping refund (2) put theirs back.
    assert shop.cards(room_id)[pid]["stock_left"] == stock_before - 6
    # The gift never touched a provider.
    assert all(e.order_id != redeemed.json()["order_id"] for e in entries)
    # And the day reconciles clean.
    report = reconciliation.run(day)
    assert [p.outcome for p in report.providers] == ["reconciled", "reconciled"] and report.discrepancies == []

"""Fulfilment and after-sales through the API on moto: shipping (one, bulk), receipt (buyer,
automatic), after-sales before and after shipping, host decisions, refund results applied once
(orders' order_events consumer) and what they undo in marketing (commerce_events consumer)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.commerce_fixtures import key, parse_time

pytestmark = pytest.mark.integration

SF = {"carrier": "SF", "tracking_number": "SF1234567890123"}


def _paid(shop, room_id, pid, *, quantity=1, user="viewer-1", **extra):
    from livecommerce import orders

    order = shop.ok(shop.order(user, room_id, [{"product_id": pid, "quantity": quantity}], **extra), 201)
    txn = "4200" + order["id"]
    assert orders.apply_payment(channel="wechat", order_id=order["id"], transaction_id=txn, amount=order["total"],
                                paid_at=order["created_at"]) == "paid"
    return order, txn


def _deliver(function: str, detail_type: str, detail: dict) -> dict:
    """One EventBridge delivery to a consumer function's handler, as the subscription makes it."""
    from local.lambda_runtime import invoke

    return invoke(function, {"version": "0", "id": key(), "source": "livecommerce", "detail-type": detail_type,
                             "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "ap-northeast-1",
                             "resources": [], "detail": detail})


def _events(bus, detail_type):
    return [detail for kind, detail, _ in bus if kind == detail_type]


def _refund_succeeded(approved: dict, refund_id: str) -> dict:
    return {"refund_id": refund_id, "order_id": approved["order_id"], "user_id": approved["user_id"],
            "channel": approved["channel"], "transaction_id": approved["transaction_id"], "amount": approved["amount"],
            "cause": "after_sale", "after_sale_id": approved["after_sale_id"], "refunded_at": "2026-01-01T00:00:00Z"}


def test_refund_before_shipping_is_immediate_returns_stock_points_and_coupon_once(shop, bus, seeded):
    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=6000)
    drop = shop.drop(room_id, shop.template(room_id, name="无门槛5元", kind="no_threshold", amount=500,
                                            threshold=0)["id"])
    coupon = shop.ok(shop.claim("viewer-1", drop["id"]))
    order, txn = _paid(shop, room_id, pid, quantity=2)
    assert order["coupon_id"] == coupon["id"] and order["total"] == 11500
    paid = _events(bus, "OrderPaid")[-1]
    assert _deliver("commerce_events", "OrderPaid", paid)["points"] == 115
    assert shop.ok(shop.call("GET", "/v1/me/points", "viewer-1"))["balance"] == 115
    assert shop.cards(room_id)[pid]["stock_left"] == 18
    oid = order["id"]

    # Bad input changes nothing: another buyer, a partial refund before shipping, more than paid.
    assert shop.call("POST", f"/v1/orders/{oid}/after-sales", "viewer-2", {}, idem=key()).status == 404
    partial = shop.call("POST", f"/v1/orders/{oid}/after-sales", "viewer-1", {"amount": 100}, idem=key())
    assert (partial.status, partial.json()["code"]) == (422, "partial_refund_before_shipping")
    more = shop.call("POST", f"/v1/orders/{oid}/after-sales", "viewer-1", {"amount": 11501}, idem=key())
    assert (more.status, more.json()["code"]) == (422, "refund_exceeds_paid")
    assert shop.ok(shop.call("GET", f"/v1/orders/{oid}", "viewer-1"))["state"] == "paid"

    k = key()
    sale = shop.ok(shop.call("POST", f"/v1/orders/{oid}/after-sales", "viewer-1", {}, idem=k), 201)
    assert (sale["state"], sale["stage"], sale["amount"]) == ("approved", "before_shipping", 11500)
    assert shop.ok(shop.call("POST", f"/v1/orders/{oid}/after-sales", "viewer-1", {}, idem=k), 201)["id"] == sale["id"]
    again = shop.call("POST", f"/v1/orders/{oid}/after-sales", "viewer-1", {}, idem=key())
    assert (again.status, again.json()["code"]) == (409, "after_sale_open")           # refunding twice
    ship = shop.call("POST", f"/v1/orders/{oid}/shipments", "host-1", SF)
    assert (ship.status, ship.json()["code"]) == (409, "order_refunded")
    (approved,) = _events(bus, "AfterSaleRefundApproved")
    assert approved["occurred_at"]                        # stamped by the outbox/publish, like event_id
    assert {k: v for k, v in approved.items() if k not in ("event_id", "occurred_at")} == {"after_sale_id": sale["id"], "order_id": oid, "user_id": "viewer-1", "channel": "wechat",
                        "transaction_id": txn, "amount": 11500, "order_total": 11500, "reason": "before_shipping"}
    assert shop.ok(shop.call("GET", f"/v1/orders/{oid}", "viewer-1"))["state"] == "refunding"

    # The refund's result, delivered twice (and once more under another refund id): applied once.
    assert _deliver("order_events", "RefundSucceeded", _refund_succeeded(approved, "R1"))["outcome"] == "applied"
    assert _deliver("order_events", "RefundSucceeded", _refund_succeeded(approved, "R1"))["outcome"] == "duplicate"
    assert _deliver("order_events", "RefundSucceeded", _refund_succeeded(approved, "R2"))["outcome"] == "duplicate"
    got = shop.ok(shop.call("GET", f"/v1/orders/{oid}", "viewer-1"))
    assert (got["state"], got["refunded_amount"], got["open_after_sale"]) == ("refunded", 11500, None)
    assert shop.cards(room_id)[pid]["stock_left"] == 20                                # the goods never left
    (refunded,) = _events(bus, "OrderRefunded")
    assert refunded["stock_returned"] is True and refunded["refunded_total"] == 11500
    first = _deliver("commerce_events", "OrderRefunded", refunded)
    assert (first["points"], first["coupon_returned"]) == (-115, True)
    second = _deliver("commerce_events", "OrderRefunded", refunded)
    assert (second["points"], second["duplicate"], second["coupon_returned"]) == (0, True, False)
    assert shop.ok(shop.call("GET", "/v1/me/points", "viewer-1"))["balance"] == 0
    centre = shop.ok(shop.call("GET", "/v1/me/coupons", "viewer-1"))["items"]
    assert [c["state"] for c in centre if c["id"] == coupon["id"]] == ["available"]
    done = shop.call("POST", f"/v1/orders/{oid}/after-sales", "viewer-1", {}, idem=key())
    assert (done.status, done.json()["code"]) == (409, "nothing_to_refund")


def test_shipping_receipt_and_an_after_sale_after_shipping(shop, bus, clock):
    from livecommerce.orders import fulfilment_service

    clock.patch(fulfilment_service)
    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=5000)
    unpaid = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}]), 201)
    order, txn = _paid(shop, room_id, pid, quantity=2)
    oid = order["id"]
    # Who may ship, and what.
    assert shop.call("POST", f"/v1/orders/{oid}/shipments", "viewer-1", SF).status == 403
    assert shop.call("POST", f"/v1/orders/{oid}/shipments", "host-2", SF).status == 403   # another host's order
    bad = shop.call("POST", f"/v1/orders/{oid}/shipments", "host-1", {"carrier": "SF", "tracking_number": "YT1234567890123"})
    assert (bad.status, bad.json()["code"]) == (422, "invalid_tracking_number")
    assert shop.call("POST", f"/v1/orders/{oid}/shipments", "host-1", {"carrier": "UPS", **{"tracking_number": "SF1234567890123"}}).status == 422
    not_paid = shop.call("POST", f"/v1/orders/{unpaid['id']}/shipments", "host-1", SF)
    assert (not_paid.status, not_paid.json()["code"]) == (409, "order_not_paid")
    early = shop.call("POST", f"/v1/orders/{oid}/receipt", "viewer-1")
    assert (early.status, early.json()["code"]) == (409, "order_not_shipped")
    assert shop.ok(shop.call("GET", f"/v1/orders/{oid}", "viewer-1"))["state"] == "paid"
    shipped = shop.ok(shop.call("POST", f"/v1/orders/{oid}/shipments", "host-1", SF))
    assert shipped["state"] == "shipped" and shipped["shipment"]["carrier_name"] == "顺丰速运"
    (event,) = _events(bus, "OrderShipped")
    assert (event["order_id"], event["tracking_number"], event["shipped_by"]) == (oid, "SF1234567890123", "host-1")
    assert shop.ok(shop.call("POST", f"/v1/orders/{oid}/shipments", "host-1", SF))["shipment"] == shipped["shipment"]
    other = shop.call("POST", f"/v1/orders/{oid}/shipments", "operator-1", {"carrier": "ZTO", "tracking_number": "731234567890"})
    assert (other.status, other.json()["code"]) == (409, "order_already_shipped")
    assert len(_events(bus, "OrderShipped")) == 1

    # Receipt: not someone else's; the buyer's, once.
    assert shop.call("POST", f"/v1/orders/{oid}/receipt", "viewer-2").status == 404
    received = shop.ok(shop.call("POST", f"/v1/orders/{oid}/receipt", "viewer-1"))
    assert received["state"] == "delivered" and received["delivered_at"]
    assert shop.ok(shop.call("POST", f"/v1/orders/{oid}/receipt", "viewer-1"))["delivered_at"] == received["delivered_at"]
    (delivered,) = _events(bus, "OrderDelivered")
    assert delivered["cause"] == "buyer"

    # After shipping: a reason, at most what was paid, the host decides.
    path = f"/v1/orders/{oid}/after-sales"
    no_reason = shop.call("POST", path, "viewer-1", {"amount": 3000}, idem=key())
    assert (no_reason.status, no_reason.json()["code"]) == (422, "reason_required")
    too_much = shop.call("POST", path, "viewer-1", {"amount": 10001, "reason": "坏了"}, idem=key())
    assert (too_much.status, too_much.json()["code"]) == (422, "refund_exceeds_paid")
    first = shop.ok(shop.call("POST", path, "viewer-1", {"amount": 3000, "reason": "有一条破了"}, idem=key()), 201)
    assert (first["state"], first["stage"]) == ("requested", "after_shipping")
    assert shop.call("POST", f"/v1/after-sales/{first['id']}/approve", "viewer-1").status == 403   # a viewer
    assert shop.call("POST", f"/v1/after-sales/{first['id']}/approve", "host-2").status == 403    # another host
    rejected = shop.ok(shop.call("POST", f"/v1/after-sales/{first['id']}/reject", "host-1", {"note": "人为损坏"}))
    assert (rejected["state"], rejected["decision_note"]) == ("rejected", "人为损坏")
    closed = shop.call("POST", f"/v1/after-sales/{first['id']}/approve", "host-1")
    assert (closed.status, closed.json()["code"]) == (409, "after_sale_closed")
    assert _events(bus, "AfterSaleRefundApproved") == []
    second = shop.ok(shop.call("POST", path, "viewer-1", {"amount": 3000, "reason": "有一条破了"}, idem=key()), 201)
    assert shop.ok(shop.call("POST", f"/v1/after-sales/{second['id']}/approve", "operator-1"))["state"] == "approved"
    (approved,) = _events(bus, "AfterSaleRefundApproved")
    assert (approved["amount"], approved["transaction_id"], approved["order_total"]) == (3000, txn, 10000)
    assert _deliver("order_events", "RefundSucceeded", _refund_succeeded(approved, "R-after"))["outcome"] == "applied"
    got = shop.ok(shop.call("GET", f"/v1/orders/{oid}", "viewer-1"))
    assert (got["state"], got["refunded_amount"]) == ("partially_refunded", 3000)
    assert shop.cards(room_id)[pid]["stock_left"] == 17        # shipped goods: no stock back (1 unpaid hold, 2 sold)
    left = shop.call("POST", path, "viewer-1", {"amount": 7001, "reason": "都不要了"}, idem=key())
    assert (left.status, left.json()["code"]) == (422, "refund_exceeds_paid")
    # After the window: refused, nothing changes.
    clock.set(parse_time(received["delivered_at"]) + timedelta(days=8))
    late = shop.call("POST", path, "viewer-1", {"amount": 100, "reason": "迟了"}, idem=key())
    assert (late.status, late.json()["code"]) == (409, "after_sale_window_closed")
    assert shop.ok(shop.call("GET", f"/v1/orders/{oid}", "viewer-1"))["open_after_sale"] is None


def test_bulk_shipping_reports_each_order_and_a_retry_changes_nothing_then_auto_receipt(shop, bus, clock):
    from livecommerce.orders import fulfilment_service, jobs

    clock.patch(fulfilment_service)
    room_id, (pid,) = shop.listed_room(live_stock=20)
    a, _ = _paid(shop, room_id, pid)
    b, _ = _paid(shop, room_id, pid, user="viewer-2")
    unpaid = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}]), 201)
    body = {"shipments": [{"order_id": a["id"], **SF},
                          {"order_id": b["id"], "carrier": "YTO", "tracking_number": "YT1234567890123"},
                          {"order_id": unpaid["id"], **SF},
                          {"order_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", **SF}]}
    assert shop.call("POST", "/v1/shipments", "viewer-1", body).status == 403
    result = shop.ok(shop.call("POST", "/v1/shipments", "host-1", body))
    assert (result["shipped"], result["failed"]) == (2, 2)
    assert [(r["ok"], r["status"], r["code"]) for r in result["results"]] == [
        (True, 200, None), (True, 200, None), (False, 409, "order_not_paid"), (False, 404, "order_not_found")]
    assert shop.ok(shop.call("POST", "/v1/shipments", "host-1", body)) == result                  # a retry
    assert len(_events(bus, "OrderShipped")) == 2
    dup = shop.call("POST", "/v1/shipments", "host-1", {"shipments": [{"order_id": a["id"], **SF}] * 2})
    assert dup.status == 422

    shipped_at = parse_time(shop.ok(shop.call("GET", f"/v1/orders/{a['id']}", "viewer-1"))["shipped_at"])
    assert jobs.confirm_due_receipts(shipped_at + timedelta(days=9)) == 0
    assert jobs.confirm_due_receipts(shipped_at + timedelta(days=10, seconds=5)) == 2
    assert jobs.confirm_due_receipts(shipped_at + timedelta(days=10, seconds=5)) == 0
    assert {d["cause"] for d in _events(bus, "OrderDelivered")} == {"auto"}
    assert shop.ok(shop.call("GET", f"/v1/orders/{b['id']}", "viewer-2"))["state"] == "delivered"


def test_a_flash_sale_refund_before_shipping_after_the_sale_ended_returns_units_to_the_product(shop, bus, clock):
    """Units refunded while the sale runs go back to its shards (buyable again); after it ended nobody can
    buy from its shards, so they go back to the product's unallocated stock."""
    from livecommerce.orders import fulfilment_service, repository, sharding

    clock.patch(fulfilment_service)
    room_id, (pid,) = shop.listed_room(stock=100, live_stock=20)
    stock_before = shop.ok(shop.call("GET", f"/v1/products/{pid}"))["stock"]
    sale = shop.flash_sale(room_id, pid, stock=10, price=990, limit=2, duration=600)
    orders = []
    for user in ("viewer-1", "viewer-2"):
        order = shop.ok(shop.buy(user, sale["id"], quantity=2), 201)
        from livecommerce import orders as face

        assert face.apply_payment(channel="wechat", order_id=order["id"], transaction_id="4200" + order["id"],
                                  amount=order["total"], paid_at=order["created_at"]) == "paid"
        orders.append(order)
    assert shop.ok(shop.call("GET", f"/v1/products/{pid}"))["stock"] == stock_before - 10

    def refund(order, user, refund_id):
        shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/after-sales", user, {}, idem=key()), 201)
        approved = [e for e in _events(bus, "AfterSaleRefundApproved") if e["order_id"] == order["id"]][-1]
        assert _deliver("order_events", "RefundSucceeded", _refund_succeeded(approved, refund_id))["outcome"] == "applied"

    left = lambda: sharding.total_left(repository.shard_lefts(sale["id"], int(repository.get_sale(sale["id"]).shards)))
    refund(orders[0], "viewer-1", "R-live")                            # the sale runs: back to its shards
    assert left() == 8 and shop.ok(shop.call("GET", f"/v1/products/{pid}"))["stock"] == stock_before - 10
    clock.set(parse_time(sale["ends_at"]) + timedelta(seconds=1))      # the sale has ended
    refund(orders[1], "viewer-2", "R-ended")
    assert left() == 8 and shop.ok(shop.call("GET", f"/v1/products/{pid}"))["stock"] == stock_before - 8
    changed = [e for e in _events(bus, "StockChanged") if e.get("order_id") == orders[1]["id"]]
    assert [(e["product_id"], e["delta"], e.get("flash_sale_id")) for e in changed] == [(pid, 2, None)]

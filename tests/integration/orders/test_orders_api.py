"""Orders through the API on moto: server prices, stock holds, idempotency, coupons, cancel and expiry."""
from __future__ import annotations

import time

import pytest

from tests.integration.commerce_fixtures import ADDRESS, key, table_items

pytestmark = pytest.mark.integration


def test_order_is_priced_by_the_server_and_holds_stock(shop, seeded):
    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=9900)
    order = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 2}], auto_coupon=False), 201)
    assert order["state"] == "pending_payment" and order["kind"] == "room"
    assert order["subtotal"] == 19800 and order["discount"] == 0 and order["total"] == 19800
    assert order["lines"] == [{"product_id": pid, "name": "商品0", "image": "https://img.example.com/p.jpg",
                               "unit_price": 9900, "quantity": 2, "line_total": 19800}]
    assert order["address"]["phone"] == ADDRESS["phone"]
    assert shop.cards(room_id)[pid]["stock_left"] == 18
    assert shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", "viewer-1"))["id"] == order["id"]
    assert shop.call("GET", f"/v1/orders/{order['id']}", "viewer-2").status == 404   # not someone else's
    mine = shop.ok(shop.call("GET", "/v1/me/orders", "viewer-1"))
    assert [o["id"] for o in mine["items"]] == [order["id"]]
    assert shop.ok(shop.call("GET", "/v1/me/orders", "viewer-2"))["items"] == []


@pytest.mark.parametrize("line,extra,status,code", [
    ({"quantity": 0}, {}, 422, None),
    ({"quantity": -1}, {}, 422, None),
    ({"quantity": 1, "price": 1}, {}, 422, None),          # a client-sent price is refused
    ({"quantity": 1}, {"total": 1}, 422, None),
    ({"quantity": 1}, {"discount": 9000}, 422, None),
    ({"quantity": 100}, {}, 422, None),
    ({"quantity": 21}, {}, 409, "out_of_stock"),
    ({"quantity": 1, "product_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, {}, 409, "product_not_listed"),
])
def test_bad_orders(shop, line, extra, status, code):
    room_id, (pid,) = shop.listed_room(live_stock=20)
    response = shop.order("viewer-1", room_id, [{"product_id": pid, **line}], **extra)
    assert response.status == status, response.body
    if code:
        assert response.json()["code"] == code
    assert shop.cards(room_id)[pid]["stock_left"] == 20


def test_unlisted_product_and_missing_idempotency_key(shop):
    room_id, (pid,) = shop.listed_room()
    missing_key = shop.call("POST", "/v1/orders", "viewer-1", {"room_id": room_id, "address": ADDRESS,
                                                               "items": [{"product_id": pid, "quantity": 1}]})
    assert missing_key.status == 422 and "idempotency-key" in missing_key.body.lower()
    shop.ok(shop.call("DELETE", f"/v1/rooms/{room_id}/products/{pid}/listing", "host-1"))
    response = shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}])
    assert response.status == 409 and response.json()["code"] == "product_not_listed"


def test_a_retry_with_the_same_key_returns_the_first_order(shop, seeded):
    room_id, (pid,) = shop.listed_room(live_stock=20)
    k = key()
    first = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}], idem=k), 201)
    second = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}], idem=k), 201)
    assert second["id"] == first["id"]
    assert shop.cards(room_id)[pid]["stock_left"] == 19
    other = shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 2}], idem=k)
    assert other.status == 422 and other.json()["code"] == "idempotency_key_reused"
    # The same key from another viewer is another request.
    assert shop.ok(shop.order("viewer-2", room_id, [{"product_id": pid, "quantity": 1}], idem=k), 201)["id"] \
        != first["id"]
    assert len([i for i in table_items(seeded, "orders", "ORDER#") if i["sk"] == "META"]) == 2


def test_cancel_gives_stock_and_coupon_back_once(shop, seeded):
    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=9900)
    tpl = shop.template(room_id, amount=1000, threshold=15000)
    drop = shop.drop(room_id, tpl["id"])
    coupon = shop.ok(shop.claim("viewer-1", drop["id"]), 201)
    order = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 2}]), 201)
    assert order["coupon_id"] == coupon["id"] and order["discount"] == 1000 and order["total"] == 18800
    held = shop.ok(shop.call("GET", "/v1/me/coupons?state=locked", "viewer-1"))["items"]
    assert [c["id"] for c in held] == [coupon["id"]] and held[0]["order_id"] == order["id"]
    assert shop.call("POST", f"/v1/orders/{order['id']}/cancel", "viewer-2").status == 404
    cancelled = shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/cancel", "viewer-1"))
    assert cancelled["state"] == "cancelled" and cancelled["closed_at"]
    again = shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/cancel", "viewer-1"))
    assert again["state"] == "cancelled"
    assert shop.cards(room_id)[pid]["stock_left"] == 20
    available = shop.ok(shop.call("GET", "/v1/me/coupons?state=available", "viewer-1"))["items"]
    assert [c["id"] for c in available] == [coupon["id"]]
    # The freed coupon applies to the next order.
    assert shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 2}]), 201)["coupon_id"] \
        == coupon["id"]


def test_best_coupon_named_coupon_and_someone_elses_coupon(shop):
    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=5000)
    small = shop.drop(room_id, shop.template(room_id, name="无门槛5元", kind="no_threshold", amount=500,
                                             threshold=0)["id"])
    big = shop.drop(room_id, shop.template(room_id, name="满100减30", amount=3000, threshold=10000)["id"])
    huge = shop.drop(room_id, shop.template(room_id, name="满1000减300", amount=30000, threshold=100000)["id"])
    c_small = shop.ok(shop.claim("viewer-1", small["id"]))
    c_big = shop.ok(shop.claim("viewer-1", big["id"]))
    shop.ok(shop.claim("viewer-1", huge["id"]))
    other = shop.ok(shop.claim("viewer-2", small["id"]))
    # 2 x 50 yuan = 100 yuan: 满100减30 beats 5 off; 满1000减300 does not apply.
    best = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 2}]), 201)
    assert best["coupon_id"] == c_big["id"] and best["total"] == 7000
    # One unit: only the no-threshold coupon applies.
    one = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}]), 201)
    assert one["coupon_id"] == c_small["id"] and one["total"] == 4500
    none_left = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}]), 201)
    assert none_left["coupon_id"] is None and none_left["total"] == 5000
    theirs = shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}], coupon_id=other["id"])
    assert theirs.status == 404 and theirs.json()["code"] == "coupon_not_found"
    used = shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 2}], coupon_id=c_big["id"])
    assert used.status == 409 and used.json()["code"] == "coupon_unavailable"
    not_met = shop.order("viewer-2", room_id, [{"product_id": pid, "quantity": 1}], coupon_id=other["id"],
                         auto_coupon=False)
    assert not_met.status == 201  # the no-threshold coupon applies to one unit
    opted_out = shop.ok(shop.order("viewer-2", room_id, [{"product_id": pid, "quantity": 1}], auto_coupon=False))
    assert opted_out["coupon_id"] is None


def test_unpaid_orders_expire_and_give_everything_back(shop, seeded, monkeypatch):
    from livecommerce.orders import service
    from local.lambda_runtime import invoke

    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=9900)
    drop = shop.drop(room_id, shop.template(room_id, amount=1000, threshold=10000)["id"])
    coupon = shop.ok(shop.claim("viewer-1", drop["id"]))
    order = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 3}]), 201)
    assert order["coupon_id"] == coupon["id"] and shop.cards(room_id)[pid]["stock_left"] == 17

    assert invoke("order_expiry", {"id": "tick", "detail-type": "Scheduled Event"})["orders_expired"] == 0
    later = time.time() + 15 * 60 + service.EXPIRY_GRACE_SECONDS + 1
    assert service.expire_overdue(now_epoch=later) == 1
    assert service.expire_overdue(now_epoch=later) == 0   # once only
    expired = shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", "viewer-1"))
    assert expired["state"] == "expired"
    assert shop.cards(room_id)[pid]["stock_left"] == 20
    assert shop.ok(shop.call("GET", "/v1/me/coupons?state=available", "viewer-1"))["items"][0]["id"] == coupon["id"]
    late_cancel = shop.call("POST", f"/v1/orders/{order['id']}/cancel", "viewer-1")
    assert late_cancel.status == 409 and late_cancel.json()["code"] == "order_not_cancellable"
    # The expired order left the index the sweeper reads.
    assert not [i for i in table_items(seeded, "orders", "ORDER#") if i.get("gsi1pk")]


def test_expiry_gives_stock_to_the_product_when_the_preset_is_gone(shop):
    from livecommerce.orders import service

    room_id, (pid,) = shop.listed_room(stock=100, live_stock=20)
    shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 5}]), 201)
    shop.preset(room_id, [])        # the host drops the preset: its 15 units go back to the library
    assert shop.ok(shop.call("GET", f"/v1/products/{pid}"))["stock"] == 95
    assert service.expire_overdue(now_epoch=time.time() + 3600) == 1
    assert shop.ok(shop.call("GET", f"/v1/products/{pid}"))["stock"] == 100


def test_live_stock_cannot_drop_below_what_is_held(shop):
    room_id, (pid,) = shop.listed_room(live_stock=20)
    shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 15}]), 201)
    response = shop.call("PUT", f"/v1/rooms/{room_id}/products", "host-1",
                         {"items": [{"product_id": pid, "live_price": 9900, "live_stock": 10}]})
    assert response.status == 409
    shop.preset(room_id, [{"product_id": pid, "live_price": 9900, "live_stock": 16}])
    assert shop.cards(room_id)[pid]["stock_left"] == 1

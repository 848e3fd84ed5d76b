"""A test room (visibility "test") is a rehearsal: its host and operators sell its 1-fen flash
sale, list its products and drop its coupons as in a real live, and nobody else can see, buy
or claim any of it (issue 10, outcome 1). The authorization matrix checks every room-scoped
route against every caller; these follow a rehearsal through, and the room copy the hot
paths keep for a second."""
from __future__ import annotations

import time

import pytest

from tests.integration.commerce_fixtures import ADDRESS, future, key

pytestmark = pytest.mark.integration


def new_room(shop, visibility):
    return shop.ok(shop.call("POST", "/v1/rooms", "host-1", {"title": "彩排", "scheduled_start": future(3600),
                                                             "visibility": visibility}))["id"]


def rehearsal(shop, visibility="test"):
    room = new_room(shop, visibility)
    product = shop.product(stock=50, list_price=100)
    shop.preset(room, [{"product_id": product, "live_price": 1, "live_stock": 20}])
    shop.list_all(room)
    sale = shop.flash_sale(room, product, price=1, stock=5)
    template = shop.template(room, kind="no_threshold", amount=50, threshold=0, total=10)
    drop = shop.drop(room, template["id"], quantity=5)
    assert drop["left"] == 5
    return room, product, sale["id"], drop["id"]


def status_code(response):
    return response.status, (response.json().get("code") if response.status >= 400 else None)


def test_the_host_rehearses_and_no_one_else_sees_a_thing(shop):
    room, product, sale, drop = rehearsal(shop)
    line = [{"product_id": product, "quantity": 1}]

    # The host and an operator: the cards, the sale, the 1-fen buy, the coupon.
    assert [c["live_price"] for c in shop.ok(shop.call("GET", f"/v1/rooms/{room}/cards", "host-1"))["items"]] == [1]
    assert shop.ok(shop.call("GET", f"/v1/flash-sales/{sale}", "operator-1"))["price"] == 1
    bought = shop.ok(shop.buy("host-1", sale), 201)
    assert (bought["room_id"], bought["total"], bought["kind"]) == (room, 1, "flash_sale")
    assert shop.ok(shop.buy("operator-1", sale), 201)["total"] == 1
    assert shop.ok(shop.order("host-1", room, line, auto_coupon=False), 201)["total"] == 1
    assert shop.ok(shop.claim("host-1", drop), 201)["template_id"]

    # Anyone else: as if none of it existed; nothing is sold or claimed.
    for user in (None, "viewer-1", "host-2"):
        assert status_code(shop.call("GET", f"/v1/rooms/{room}/cards", user)) == (404, "room_not_found")
        assert status_code(shop.call("GET", f"/v1/rooms/{room}/flash-sales", user)) == (404, "room_not_found")
        assert status_code(shop.call("GET", f"/v1/flash-sales/{sale}", user)) == (404, "flash_sale_not_found")
        assert status_code(shop.call("GET", f"/v1/coupon-drops/{drop}", user)) == (404, "drop_not_found")
    for user in ("viewer-1", "host-2"):
        assert status_code(shop.buy(user, sale)) == (404, "flash_sale_not_found")
        assert status_code(shop.order(user, room, line)) == (404, "room_not_found")
        assert status_code(shop.claim(user, drop)) == (404, "drop_not_found")
    sale_now = shop.ok(shop.call("GET", f"/v1/flash-sales/{sale}", "host-1"))
    assert sale_now["stock_left"] == 3                    # the host's and the operator's units only
    assert shop.ok(shop.call("GET", f"/v1/coupon-drops/{drop}", "host-1"))["left"] == 4    # the host's coupon only
    assert shop.ok(shop.call("GET", "/v1/me/orders", "viewer-1"))["items"] == []
    assert shop.ok(shop.call("GET", "/v1/me/coupons", "viewer-1"))["items"] == []


def test_a_visibility_change_reaches_the_buy_within_the_rooms_copy(shop, monkeypatch):
    """A buy and a claim read the room through a copy kept a moment (a crowd must not all read
    the one room item); once that moment has passed, the room's new visibility holds."""
    from livecommerce import rooms

    monkeypatch.setattr(rooms._recent, "seconds", 0.2)
    room, _, sale, drop = rehearsal(shop, visibility="public")
    assert shop.buy("viewer-1", sale).status == 201                    # the public room is now kept
    patched = shop.call("PATCH", f"/v1/rooms/{room}", "host-1", {"visibility": "test"})
    assert patched.status == 200, patched.body
    time.sleep(0.25)
    assert status_code(shop.buy("viewer-2", sale)) == (404, "flash_sale_not_found")
    assert status_code(shop.claim("viewer-2", drop)) == (404, "drop_not_found")
    assert shop.call("PATCH", f"/v1/rooms/{room}", "host-1", {"visibility": "public"}).status == 200
    time.sleep(0.25)
    assert shop.buy("viewer-2", sale).status == 201
    assert shop.claim("viewer-2", drop).status == 201

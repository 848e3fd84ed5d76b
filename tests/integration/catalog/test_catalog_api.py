"""Product library, room presets, listings and cards through the API on moto."""
from __future__ import annotations

import pytest

from tests.integration.commerce_fixtures import table_items

pytestmark = pytest.mark.integration


def test_operator_builds_the_library_and_anyone_reads_it(shop):
    pid = shop.product(stock=50, list_price=12900)
    got = shop.ok(shop.call("GET", f"/v1/products/{pid}"))
    assert got["list_price"] == 12900 and got["stock"] == 50 and got["images"] == ["https://img.example.com/p.jpg"]
    patched = shop.ok(shop.call("PATCH", f"/v1/products/{pid}", "operator-1", {"name": "新款围巾", "stock": 70}))
    assert patched["name"] == "新款围巾" and patched["stock"] == 70
    assert shop.call("PATCH", f"/v1/products/{pid}", "host-1", {"name": "x"}).status == 403
    assert shop.call("POST", "/v1/products", "viewer-1", {"name": "x", "list_price": 1, "stock": 1}).status == 403


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "list_price": 0, "stock": 1}, "list_price"),
    ({"name": "x", "list_price": -5, "stock": 1}, "list_price"),
    ({"name": "x", "list_price": 1.5, "stock": 1}, "list_price"),
    ({"name": "x", "list_price": 100, "stock": -1}, "stock"),
    ({"name": "", "list_price": 100, "stock": 1}, "name"),
    ({"name": "x", "list_price": 100, "stock": 1, "images": ["http://insecure"]}, "images"),
    ({"name": "x", "list_price": 100, "stock": 1, "owner": "me"}, "owner"),
])
def test_bad_products_are_422(shop, body, field):
    response = shop.call("POST", "/v1/products", "operator-1", body)
    assert response.status == 422, response.body
    assert any(field in e["field"] for e in response.json()["errors"])


def test_presets_move_stock_from_the_library_and_listing_makes_cards(shop, seeded):
    room_id = shop.room()
    a, b = shop.product(stock=30), shop.product(stock=5)
    presets = shop.preset(room_id, [
        {"product_id": a, "display_order": 2, "live_price": 8800, "live_stock": 10, "promotion_note": "买一送一"},
        {"product_id": b, "display_order": 1, "live_price": 500, "live_stock": 5}])
    assert [p["product_id"] for p in presets["items"]] == [b, a]
    assert shop.ok(shop.call("GET", f"/v1/products/{a}"))["stock"] == 20
    assert shop.ok(shop.call("GET", f"/v1/products/{b}"))["stock"] == 0
    assert shop.cards(room_id) == {}  # presets are not on the shelf yet

    listed = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/products/{a}/listing", "host-1"))
    assert listed["changed"] == [a]
    again = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/products/{a}/listing", "host-1"))
    assert again["changed"] == []  # a repeat is a no-op
    cards = shop.cards(room_id)
    assert list(cards) == [a]
    assert cards[a] == {"product_id": a, "name": "羊毛围巾", "image": "https://img.example.com/p.jpg",
                        "live_price": 8800, "list_price": 19900, "stock_left": 10, "promotion_note": "买一送一",
                        "state": "on_sale"}
    assert shop.list_all(room_id)["changed"] == [b]
    assert list(shop.cards(room_id)) == [b, a]

    # Raising a live stock takes more from the library; more than it has is refused.
    short = shop.call("PUT", f"/v1/rooms/{room_id}/products", "host-1", {"items": [
        {"product_id": a, "live_price": 8800, "live_stock": 10}, {"product_id": b, "live_price": 500, "live_stock": 6}]})
    assert short.status == 409 and short.json()["code"] == "insufficient_stock" and short.json()["product_ids"] == [b]
    # Removing a preset gives its stock back.
    shop.preset(room_id, [{"product_id": b, "live_price": 500, "live_stock": 5}])
    assert shop.ok(shop.call("GET", f"/v1/products/{a}"))["stock"] == 30
    assert list(shop.cards(room_id)) == [b]

    unlisted = shop.ok(shop.call("DELETE", f"/v1/rooms/{room_id}/products/listing", "host-1"))
    assert unlisted["changed"] == [b] and shop.cards(room_id) == {}

    types = [i["detail_type"] for i in _events(seeded)]
    for expected in ("ProductCreated", "ProductListed", "ProductUnlisted", "RoomProductsPreset"):
        assert expected in types
    assert not [i for i in table_items(seeded, "catalog") if str(i["sk"]).startswith("OUTBOX#")]


def _events(session):
    from local.event_delivery import drain
    from local.resources import LocalNames

    drain(session, LocalNames())
    return [i for i in table_items(session, "eventlog") if "detail_type" in i]


def test_only_the_room_host_presets_and_lists(shop):
    room_id = shop.room()
    pid = shop.product()
    body = {"items": [{"product_id": pid, "live_price": 100, "live_stock": 1}]}
    assert shop.call("PUT", f"/v1/rooms/{room_id}/products", "host-2", body).status == 403
    assert shop.call("PUT", f"/v1/rooms/{room_id}/products", "viewer-1", body).status == 403
    assert shop.call("PUT", f"/v1/rooms/{room_id}/products", "operator-1", body).status == 200
    assert shop.call("POST", f"/v1/rooms/{room_id}/products/listing", "host-2").status == 403
    missing = shop.call("PUT", f"/v1/rooms/{room_id}/products", "host-1",
                        {"items": [{"product_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "live_price": 1, "live_stock": 0}]})
    assert missing.status == 404 and missing.json()["code"] == "product_not_found"
    dup = shop.call("PUT", f"/v1/rooms/{room_id}/products", "host-1", {"items": [body["items"][0]] * 2})
    assert dup.status == 422


def test_hot_products_for_the_announcement(shop):
    from livecommerce.catalog import hot_products

    room_id, (a, b) = shop.listed_room(products=2)
    assert [c["product_id"] for c in hot_products(room_id)] == [a, b]
    shop.ok(shop.order("viewer-1", room_id, [{"product_id": b, "quantity": 3}]), 201)
    hot = hot_products(room_id, limit=1)
    assert [c["product_id"] for c in hot] == [b] and hot[0]["stock_left"] == 17 and hot[0]["live_price"] == 9900
    assert set(hot[0]) == {"product_id", "name", "image", "live_price", "list_price", "stock_left", "promotion_note",
                           "state"}

"""Quantities, sale prices and stock are JSON integers; address lines are clean
text: through the real orders handler, a bad value is 422 naming the field and
no order, hold or sale is stored (issue 10, outcomes 5 and 6)."""
from __future__ import annotations

import pytest

from tests.integration.catalog.test_strict_catalog_fields import NOT_INTEGERS, refused
from tests.integration.commerce_fixtures import ADDRESS, key, table_items

pytestmark = pytest.mark.integration


def _orders(session):
    return [i for i in table_items(session, "orders") if str(i["pk"]).startswith("ORDER#")]


def test_order_quantity_and_address_refuse_bad_values_and_store_nothing(shop, seeded):
    room_id, (pid,) = shop.listed_room(live_stock=20)
    before = len(_orders(seeded))
    for value in NOT_INTEGERS:
        refused(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": value}]), "quantity")
    for field, value in [("name", "张\x00三"), ("name", "张三\u202e"), ("detail", "中山路\u20671号"),
                         ("city", "杭州\n"), ("district", "西湖\x85区"), ("province", "\u200e浙江")]:
        response = shop.call("POST", "/v1/orders", "viewer-1", {
            "room_id": room_id, "items": [{"product_id": pid, "quantity": 1}],
            "address": {**ADDRESS, field: value}}, idem=key())
        refused(response, field)
    assert len(_orders(seeded)) == before
    assert shop.cards(room_id)[pid]["stock_left"] == 20


def test_flash_sale_price_stock_and_limits_refuse_non_integers(shop, seeded):
    room_id = shop.room()
    pid = shop.product(stock=10)
    good = {"product_id": pid, "price": 990, "stock": 5, "duration_seconds": 600, "per_user_limit": 1}
    for field in ("price", "stock", "duration_seconds", "per_user_limit"):
        for value in NOT_INTEGERS:
            if field == "duration_seconds" and value in ("1", True, 1.0):
                continue  # under the 10 s minimum whatever its type
            response = shop.call("POST", f"/v1/rooms/{room_id}/flash-sales", "host-1", {**good, field: value})
            refused(response, field)
    assert shop.ok(shop.call("GET", f"/v1/rooms/{room_id}/flash-sales"))["items"] == []
    assert shop.ok(shop.call("GET", f"/v1/products/{pid}"))["stock"] == 10


def test_flash_buy_quantity_refuses_non_integers(shop, seeded):
    room_id = shop.room()
    pid = shop.product(stock=10)
    sale = shop.flash_sale(room_id, pid, stock=5, limit=2)
    before = len(_orders(seeded))
    for value in NOT_INTEGERS:
        if value in ("100", 100.0):
            continue  # above the per-order maximum whatever its type
        response = shop.call("POST", f"/v1/flash-sales/{sale['id']}/orders", "viewer-1",
                             {"quantity": value, "address": ADDRESS}, idem=key())
        refused(response, "quantity")
    assert len(_orders(seeded)) == before
    assert shop.ok(shop.call("GET", f"/v1/flash-sales/{sale['id']}"))["stock_left"] == 5

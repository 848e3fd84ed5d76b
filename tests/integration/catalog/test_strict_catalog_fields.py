"""Money and stock are JSON integers, names and notes are clean text: through
the real catalog handler (Powertools validation), a bad value is 422 naming the
field and nothing is stored (issue 10, outcomes 5 and 6)."""
from __future__ import annotations

import pytest

from tests.integration.commerce_fixtures import table_items

pytestmark = pytest.mark.integration

NOT_INTEGERS = [True, "100", "1", 1.0, 100.0]
PRODUCT = {"name": "羊毛围巾", "list_price": 19900, "stock": 10}


def _products(session):
    return [i for i in table_items(session, "catalog") if str(i["pk"]).startswith("PRODUCT#")]


def refused(response, field):
    assert response.status == 422, (field, response.status, response.body)
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_failed"
    assert any(e["field"].split(".")[-1] == field or f".{field}." in f".{e['field']}." for e in body["errors"]), body


def test_product_money_and_stock_refuse_non_integers_and_store_nothing(shop, seeded):
    before = len(_products(seeded))
    for field in ("list_price", "stock"):
        for value in NOT_INTEGERS:
            refused(shop.call("POST", "/v1/products", "operator-1", {**PRODUCT, field: value}), field)
    assert len(_products(seeded)) == before
    pid = shop.product(list_price=19900, stock=7)
    for field in ("list_price", "stock"):
        for value in NOT_INTEGERS:
            refused(shop.call("PATCH", f"/v1/products/{pid}", "operator-1", {field: value}), field)
    got = shop.ok(shop.call("GET", f"/v1/products/{pid}"))
    assert (got["list_price"], got["stock"]) == (19900, 7)


def test_preset_live_price_true_is_not_one_fen(shop, seeded):
    room_id = shop.room()
    pid = shop.product(stock=30)
    for field in ("live_price", "live_stock", "display_order"):
        for value in NOT_INTEGERS:
            preset = {"product_id": pid, "display_order": 1, "live_price": 8800, "live_stock": 5, field: value}
            refused(shop.call("PUT", f"/v1/rooms/{room_id}/products", "host-1", {"items": [preset]}), field)
    assert shop.ok(shop.call("GET", f"/v1/rooms/{room_id}/products", "host-1"))["items"] == []
    assert shop.ok(shop.call("GET", f"/v1/products/{pid}"))["stock"] == 30
    preset = {"product_id": pid, "live_price": 8800, "live_stock": 5, "promotion_note": "买一\x00送一"}
    refused(shop.call("PUT", f"/v1/rooms/{room_id}/products", "host-1", {"items": [preset]}), "promotion_note")
    preset["promotion_note"] = "买一\u202e送一"
    refused(shop.call("PUT", f"/v1/rooms/{room_id}/products", "host-1", {"items": [preset]}), "promotion_note")


def test_product_text_refuses_control_and_bidi_characters(shop, seeded):
    before = len(_products(seeded))
    for field, value in [
        ("name", "围巾\u202egpj.exe"), ("name", "围\x00巾"), ("name", "围巾\n"), ("name", "   "), ("name", "围\u200f巾"),
        ("description", "好物\x00"), ("description", "好物\u2066隐藏\u2069"), ("description", "好物\r\n第二行"),
        ("images", ["https://img.example.com/\u202egpj.exe"]),
    ]:
        refused(shop.call("POST", "/v1/products", "operator-1", {**PRODUCT, field: value}), field)
    assert len(_products(seeded)) == before


def test_clean_text_is_stored_as_sent_and_descriptions_keep_line_breaks(shop, seeded):
    body = {**PRODUCT, "name": " 羊毛围巾 👍🏽 ", "description": "第一行\n\t第二行 ❤️"}
    product = shop.ok(shop.call("POST", "/v1/products", "operator-1", body))
    got = shop.ok(shop.call("GET", f"/v1/products/{product['id']}"))
    assert got["name"] == " 羊毛围巾 👍🏽 " and got["description"] == "第一行\n\t第二行 ❤️"

"""Catalog's typed events as its producers build them (the JSON detail is what consumers parse)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from livecommerce.catalog import events, service


def _preset(**over):
    fields = dict(room_id="R1", product_id="P1", name="Tea", image="https://x/i.png", live_price=990,
                  stock_left=-1, promotion_note=None)
    return SimpleNamespace(**{**fields, **over})


def test_product_listed_carries_name_stock_left_and_live_price():
    listed = service._listing_event(_preset())
    assert listed.detail() == {"room_id": "R1", "product_id": "P1", "name": "Tea", "image": "https://x/i.png",
                               "live_price": 990, "stock_left": 0, "promotion_note": None}
    parsed = events.ProductListed.parse(listed.detail())
    assert parsed.name == "Tea" and parsed.stock_left == 0 and parsed.cause is None
    with pytest.raises(AttributeError):
        parsed.title  # noqa: B018 - the card's name is `name`


def test_a_price_change_relists_with_its_cause():
    relisted = service._listing_event(_preset(stock_left=3), live_price=800, stock_left=5, cause="price_changed")
    assert relisted.detail()["live_price"] == 800 and relisted.detail()["stock_left"] == 5
    assert relisted.detail()["cause"] == "price_changed"


def test_stock_changed_from_presets_carries_stock_left_and_no_order():
    event = events.StockChanged(room_id="R1", product_id="P1", delta=3, stock_left=7, cause="preset")
    assert event.detail() == {"room_id": "R1", "product_id": "P1", "delta": 3, "stock_left": 7, "cause": "preset"}
    flash_release = events.StockChanged.parse({"room_id": "R1", "flash_sale_id": "S1", "product_id": "P1",
                                               "delta": 1, "cause": "expired", "order_id": "O1"})
    assert flash_release.flash_sale_id == "S1" and flash_release.stock_left is None


def test_stock_labels_are_read_back_by_the_face():
    from livecommerce import catalog
    from livecommerce.shared.tx import TxCancelled

    assert catalog.stock_label("P1") == "stock:P1"
    assert catalog.stock_failed(TxCancelled({"stock:P1"})) and not catalog.stock_failed(TxCancelled({"coupon"}))

"""A flash-sale buy says the sale's units moved (StockChanged with the sale's id), so the room's
flash-sale card shows the units left and turns to sold out at 0 (interaction.state_feed); a cancel
says they came back. Without it the viewers' stock never dropped (seen in the browser, issue 16)."""
from __future__ import annotations

import pytest

from tests.integration.commerce_fixtures import key

pytestmark = pytest.mark.integration


def test_buy_and_cancel_announce_the_sale_units_that_moved(shop, bus):
    room_id = shop.room()
    pid = shop.product(stock=10)
    sale = shop.flash_sale(room_id, pid, stock=3, limit=2)
    idem = key()
    order = shop.ok(shop.buy("viewer-1", sale["id"], quantity=2, idem=idem), 201)
    retried = shop.ok(shop.buy("viewer-1", sale["id"], quantity=2, idem=idem), (200, 201))   # a retry: said once

    def moved():
        return [(d["delta"], d["cause"], d.get("order_id")) for t, d, _ in bus
                if t == "StockChanged" and d.get("flash_sale_id") == sale["id"]]

    assert retried["id"] == order["id"]
    assert moved() == [(-2, "order", order["id"])]
    assert [d["product_id"] for t, d, _ in bus if t == "StockChanged" and d.get("flash_sale_id")] == [pid]
    shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/cancel", "viewer-1"))
    assert moved() == [(-2, "order", order["id"]), (2, "cancelled", order["id"])]

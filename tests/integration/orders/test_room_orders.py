"""GET /v1/rooms/{room_id}/orders on moto: a room's orders, newest first, with their payment, shipping
and refund state (the operations dashboard's order list), paged across the index's shards."""
from __future__ import annotations

import pytest

from tests.integration.commerce_fixtures import key

pytestmark = pytest.mark.integration

SF = {"carrier": "SF", "tracking_number": "SF1234567890123"}


def test_a_rooms_orders_show_shipping_and_refund_state_and_page_across_shards(shop, seeded):
    from livecommerce import orders

    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=1000)
    other_room, (other_pid,) = shop.listed_room(live_stock=5, live_price=1000)
    made = []
    for user in ("viewer-1", "viewer-2", "viewer-1", "viewer-2", "viewer-1"):
        made.append(shop.ok(shop.order(user, room_id, [{"product_id": pid, "quantity": 1}], auto_coupon=False), 201))
    elsewhere = shop.ok(shop.order("viewer-1", other_room, [{"product_id": other_pid, "quantity": 1}],
                                   auto_coupon=False), 201)
    shipped, refunded = made[0], made[1]
    for order in (shipped, refunded):
        assert orders.apply_payment(channel="wechat", order_id=order["id"], transaction_id="4200" + order["id"],
                                    amount=order["total"], paid_at=order["created_at"]) == "paid"
    shop.ok(shop.call("POST", f"/v1/orders/{shipped['id']}/shipments", "host-1", SF))
    shop.ok(shop.call("POST", f"/v1/orders/{refunded['id']}/after-sales", "viewer-2", {}, idem=key()), 201)

    listed = shop.ok(shop.call("GET", f"/v1/rooms/{room_id}/orders", "operator-1"))
    assert [o["id"] for o in listed["items"]] == [o["id"] for o in reversed(made)]   # newest first, this room only
    assert elsewhere["id"] not in [o["id"] for o in listed["items"]] and listed["cursor"] is None
    by_id = {o["id"]: o for o in listed["items"]}
    assert by_id[shipped["id"]]["state"] == "shipped"
    assert by_id[shipped["id"]]["shipment"]["tracking_number"] == SF["tracking_number"]
    assert by_id[refunded["id"]]["state"] == "refunding" and by_id[refunded["id"]]["open_after_sale"]
    assert {by_id[o["id"]]["state"] for o in made[2:]} == {"pending_payment"}

    # pages of two: every order once, in the same order; the cursor is the caller's and the room's
    seen, cursor, pages = [], None, 0
    while True:
        query = f"?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = shop.ok(shop.call("GET", f"/v1/rooms/{room_id}/orders{query}", "host-1"))
        seen += [o["id"] for o in page["items"]]
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break
        if pages == 1:
            stolen = shop.call("GET", f"/v1/rooms/{other_room}/orders?limit=2&cursor={cursor}", "host-1")
            assert (stolen.status, stolen.json()["code"]) == (422, "invalid_cursor")
            forged = shop.call("GET", f"/v1/rooms/{room_id}/orders?limit=2&cursor={cursor[:-2]}xx", "host-1")
            assert (forged.status, forged.json()["code"]) == (422, "invalid_cursor")
    assert seen == [o["id"] for o in reversed(made)] and pages == 3
    # another host: refused; a viewer: refused
    assert shop.call("GET", f"/v1/rooms/{room_id}/orders", "host-2").status == 403
    assert shop.call("GET", f"/v1/rooms/{room_id}/orders", "viewer-1").status == 403

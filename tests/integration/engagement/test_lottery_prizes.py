"""Physical lottery prizes ship through the fulfilment path (orders.prizes) on moto, with the drand stand-in."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.commerce_fixtures import parse_time
from tests.integration.engagement.test_lotteries import ADDRESS, _problem, drand  # noqa: F401 - drand: fixture

pytestmark = pytest.mark.integration


def _drawn(shop, clock, drand, prize, viewers, winners):
    """A follow lottery entered by `viewers`, closed and drawn; the winners' user ids by rank."""
    from livecommerce.engagement import service

    clock.patch(service)
    room_id = shop.room()
    for v in viewers:
        shop.ok(shop.call("PUT", "/v1/hosts/host-1/follow", v))
    lottery = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/lotteries", "host-1", {
        "kind": "follow", "prize": prize, "winners": winners, "duration_seconds": 30}), 201)
    lid = lottery["id"]
    for v in viewers:
        shop.ok(shop.call("POST", f"/v1/lotteries/{lid}/entries", v), 201)
    clock.set(parse_time(lottery["closes_at"]) + timedelta(seconds=1))
    assert service.run_step(lid, clock.now())[0] == "close"
    draws_at = parse_time(shop.ok(shop.call("GET", f"/v1/lotteries/{lid}"))["draws_at"])
    drand.offset["s"] = 3600
    clock.set(draws_at + timedelta(seconds=1))
    assert service.run_step(lid, clock.now())[0] == "draw"
    prizes = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", "host-1"))["prizes"]
    return room_id, lid, [p["user_id"] for p in sorted(prizes, key=lambda p: p["rank"])]


def test_gift_prize_ships_as_a_zero_amount_order_and_the_winner_confirms_receipt(shop, clock, drand, bus):
    from livecommerce import orders
    from livecommerce.shared.clock import utcnow

    room_id, lid, (winner,) = _drawn(shop, clock, drand, {"kind": "gift", "name": "签名照"},
                                     [f"viewer-{i}" for i in range(1, 4)], 1)
    claim = shop.ok(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", winner, ADDRESS))
    order_id = claim["order_id"]
    # One order per (lottery, winner): a second claim is refused and makes no second order.
    _problem(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", winner, ADDRESS), 409, "already_claimed")
    assert orders.prize_order_of(lid, winner) == order_id

    order = shop.ok(shop.call("GET", f"/v1/orders/{order_id}", winner))
    assert order["kind"] == "prize" and order["state"] == "paid" and order["total"] == 0
    assert order["prize"] == {"lottery_id": lid, "rank": 1, "prize_kind": "gift"} and order["payment"] is None
    assert order["address"]["phone"] == ADDRESS["phone"] and order["room_id"] == room_id
    assert order_id in [o["id"] for o in shop.ok(shop.call("GET", "/v1/me/orders", winner))["items"]]
    host = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", "host-1"))["prizes"][0]
    assert host["prize_state"] == "claimed" and host["order_id"] == order_id
    assert host["shipping"]["state"] == "paid" and host["shipping"]["tracking_number"] is None
    assert shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", winner)).get("prizes") is None

    # Not money: no payment is taken, no money refund, nothing for reconciliation or GMV.
    _problem(shop.call("POST", f"/v1/orders/{order_id}/payments", winner, {"channel": "wechat"},
                       idem="prize-pay-1"), 409, "order_already_paid")
    _problem(shop.call("POST", f"/v1/orders/{order_id}/after-sales", winner, {}, idem="prize-refund-1"), 409,
             "prize_not_refundable")

    # The host ships it like any order; the winner confirms receipt.
    shipped = shop.ok(shop.call("POST", f"/v1/orders/{order_id}/shipments", "host-1",
                                {"carrier": "SF", "tracking_number": "SF1234567890123"}))
    assert shipped["state"] == "shipped"
    host = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", "host-1"))["prizes"][0]
    assert host["shipping"]["state"] == "shipped" and host["shipping"]["carrier"] == "SF"
    assert host["shipping"]["tracking_number"] == "SF1234567890123"
    _problem(shop.call("POST", f"/v1/orders/{order_id}/after-sales", winner, {"reason": "坏了"},
                       idem="prize-refund-2"), 409, "prize_not_refundable")
    received = shop.ok(shop.call("POST", f"/v1/orders/{order_id}/receipt", winner))
    assert received["state"] == "delivered"
    host = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", "host-1"))["prizes"][0]
    assert host["shipping"]["state"] == "delivered" and host["shipping"]["delivered_at"]

    mine = [(t, d) for t, d, _ in bus if d.get("order_id") == order_id]
    assert [t for t, _ in mine] == ["OrderShipped", "OrderDelivered"]   # never OrderCreated / OrderPaid (GMV)
    assert all(d["kind"] == "prize" and d["total"] == 0 for _, d in mine)
    beijing_day = (utcnow() + timedelta(hours=8)).date().isoformat()
    assert order_id not in [s.order_id for s in orders.settlements_on(beijing_day)]


def test_product_prize_takes_a_unit_of_stock_and_out_of_stock_forfeits_cleanly(shop, clock, drand, bus):
    from livecommerce import catalog

    product_id = shop.product(stock=1, name="保温杯")
    room_id, lid, (first, second) = _drawn(shop, clock, drand, {"kind": "product", "name": "保温杯",
                                                                "product_id": product_id},
                                           [f"viewer-{i}" for i in range(1, 5)], 2)
    claim = shop.ok(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", first, ADDRESS))
    assert catalog.find_product(product_id, consistent=True).stock == 0
    order = shop.ok(shop.call("GET", f"/v1/orders/{claim['order_id']}", first))
    assert order["lines"][0]["product_id"] == product_id and order["lines"][0]["unit_price"] == 0
    assert order["lines"][0]["image"] == "https://img.example.com/p.jpg"

    # No unit left for the second winner: refused, the prize forfeited (not redrawn), no order, stock untouched.
    _problem(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", second, ADDRESS), 409, "prize_out_of_stock")
    assert catalog.find_product(product_id, consistent=True).stock == 0
    from livecommerce import orders
    assert orders.prize_order_of(lid, second) is None
    prizes = sorted(shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", "host-1"))["prizes"], key=lambda p: p["rank"])
    assert [(p["prize_state"], p["detail"]) for p in prizes] == [("claimed", None), ("forfeited", "out_of_stock")]
    assert prizes[1]["order_id"] is None and prizes[0]["shipping"]["state"] == "paid"
    forfeits = [d for t, d, _ in bus if t == "LotteryPrizeForfeited" and d["lottery_id"] == lid]
    assert [(f["rank"], f["redraw"], f["reason"]) for f in forfeits] == [(2, False, "out_of_stock")]
    _problem(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", second, ADDRESS), 409, "claim_expired")

"""Flash sales through the API on moto: countdown, sharded stock, per-user limits, sold out, expiry."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tests.integration.commerce_fixtures import future, key, parse_time, table_items
from tests.polling import poll

pytestmark = pytest.mark.integration


def _shards(session, sale_id):
    return sorted(int(i["left"]) for i in table_items(session, "orders", f"FLASHSTOCK#{sale_id}#"))


def test_sale_takes_stock_from_the_library_and_sells_it(shop, seeded):
    room_id = shop.room()
    pid = shop.product(stock=300, list_price=19900)
    sale = shop.flash_sale(room_id, pid, stock=200, price=990, limit=2)
    assert sale["state"] == "on_sale" and sale["stock_left"] == 200 and sale["price"] == 990
    assert sale["list_price"] == 19900 and sale["server_time"] and sale["ends_at"] > sale["starts_at"]
    assert shop.ok(shop.call("GET", f"/v1/products/{pid}"))["stock"] == 100
    assert len(_shards(seeded, sale["id"])) == 8 and sum(_shards(seeded, sale["id"])) == 200
    order = shop.ok(shop.buy("viewer-1", sale["id"], quantity=2), 201)
    assert order["kind"] == "flash_sale" and order["flash_sale_id"] == sale["id"]
    assert order["total"] == 1980 and order["lines"][0]["unit_price"] == 990
    assert shop.ok(shop.call("GET", f"/v1/flash-sales/{sale['id']}"))["stock_left"] == 198
    over = shop.buy("viewer-1", sale["id"])
    assert over.status == 409 and over.json()["code"] == "per_user_limit"
    listed = shop.ok(shop.call("GET", f"/v1/rooms/{room_id}/flash-sales"))["items"]
    assert [s["id"] for s in listed] == [sale["id"]]


def test_bad_flash_sales_and_buys(shop):
    room_id = shop.room()
    pid = shop.product(stock=10)
    too_much = shop.call("POST", f"/v1/rooms/{room_id}/flash-sales", "host-1", {
        "product_id": pid, "price": 100, "stock": 11, "duration_seconds": 60})
    assert too_much.status == 409 and too_much.json()["code"] == "insufficient_stock"
    for bad in ({"price": 0}, {"stock": 0}, {"duration_seconds": 1}, {"per_user_limit": 0}, {"discount": 1},
                {"starts_at": "2030-01-01T00:00:00"}):
        body = {"product_id": pid, "price": 100, "stock": 1, "duration_seconds": 60, **bad}
        assert shop.call("POST", f"/v1/rooms/{room_id}/flash-sales", "host-1", body).status == 422, bad
    assert shop.call("POST", f"/v1/rooms/{room_id}/flash-sales", "host-2", {
        "product_id": pid, "price": 100, "stock": 1, "duration_seconds": 60}).status == 403
    sale = shop.flash_sale(room_id, pid, stock=5, limit=2)
    for quantity in (0, -1):
        assert shop.buy("viewer-1", sale["id"], quantity=quantity).status == 422
    priced = shop.call("POST", f"/v1/flash-sales/{sale['id']}/orders", "viewer-1",
                       {"quantity": 1, "price": 1, "address": {}}, idem=key())
    assert priced.status == 422
    limit = shop.buy("viewer-1", sale["id"], quantity=3)
    assert limit.status == 409 and limit.json()["code"] == "per_user_limit"
    assert shop.buy("viewer-1", "01ARZ3NDEKTSV4RRFFQ69G5FAV").status == 404


def test_countdown_start_and_end_go_out_at_their_time_once(shop, clock, timer_requests, bus):
    from livecommerce.orders import flash, repository

    clock.patch(flash)                       # stepped through the sale's moments, not slept through
    room_id = shop.room()
    pid = shop.product(stock=10)
    sale = shop.flash_sale(room_id, pid, stock=3, duration=30, starts_at=future(60))
    assert sale["state"] == "scheduled"
    starts, ends = parse_time(sale["starts_at"]), parse_time(sale["ends_at"])
    countdown = starts - timedelta(seconds=10)

    def announced():
        return [(t, d) for t, d, _ in bus if t.startswith("FlashSale") and d.get("flash_sale_id") == sale["id"]]

    assert [t for t, _ in announced()] == ["FlashSaleScheduled"]
    # The final countdown is under a minute away: its timer was asked for at creation.
    assert timer_requests == [{"kind": "flash_sale", "id": sale["id"], "at_ms": int(countdown.timestamp() * 1000)}]

    clock.set(countdown - timedelta(milliseconds=300))           # the same second, not yet its moment
    assert flash.run_due_steps() == 0
    clock.set(countdown + timedelta(milliseconds=200))
    assert flash.run_due_steps() == 1 and flash.run_due_steps() == 0
    assert announced()[-1][0] == "FlashSaleCountdown" and announced()[-1][1]["seconds_to_start"] == 10

    clock.set(starts - timedelta(milliseconds=300))
    early = shop.buy("viewer-1", sale["id"])
    assert early.status == 409 and early.json()["code"] == "flash_sale_not_started"
    assert flash.run_due_steps() == 0                            # never announced before it opens
    clock.set(starts + timedelta(milliseconds=100))
    flash.clear_cache()
    assert flash.run_due_steps() == 1 and flash.run_due_steps() == 0
    assert announced()[-1] == ("FlashSaleStarted", {**announced()[-1][1], "scheduled": True})
    assert shop.ok(shop.buy("viewer-1", sale["id"]), 201)

    clock.set(ends + timedelta(milliseconds=100))
    assert flash.run_due_steps() == 1 and flash.run_due_steps() == 0
    ended = announced()[-1]
    assert ended[0] == "FlashSaleEnded" and ended[1]["stock_left"] == 2 and ended[1]["sold_out"] is False
    assert [t for t, _ in announced()] == ["FlashSaleScheduled", "FlashSaleCountdown", "FlashSaleStarted",
                                           "FlashSaleEnded"]
    assert repository.get_sale(sale["id"], consistent=True).gsi1pk is None    # nothing left to time
    short = shop.flash_sale(room_id, pid, stock=1, duration=10)
    assert shop.ok(shop.call("GET", f"/v1/flash-sales/{short['id']}"))["state"] == "on_sale"


def test_timers_announce_the_sale_without_the_minute_tick(shop, real_timers, bus, monkeypatch):
    """The real path: the clock function is invoked asynchronously (local Lambda Invoke
    API), sleeps until each moment and runs the step; nothing runs the minute tick here."""
    monkeypatch.setenv("FLASH_COUNTDOWN_SECONDS", "2")
    room_id = shop.room()
    sale = shop.flash_sale(room_id, shop.product(stock=10), stock=2, duration=10, starts_at=future(5))
    starts, ends = parse_time(sale["starts_at"]), parse_time(sale["ends_at"])
    poll(lambda: any(t == "FlashSaleEnded" for t, _, _ in bus), 40, interval=0.1)
    mine = [(t, at) for t, d, at in bus if t.startswith("FlashSale") and d.get("flash_sale_id") == sale["id"]]
    assert [t for t, _ in mine] == ["FlashSaleScheduled", "FlashSaleCountdown", "FlashSaleStarted", "FlashSaleEnded"]
    moments = {"FlashSaleCountdown": starts - timedelta(seconds=2), "FlashSaleStarted": starts,
               "FlashSaleEnded": ends}
    for name, at in mine[1:]:
        assert at >= moments[name], name                         # never early
        assert at - moments[name] < timedelta(seconds=10), name  # on time, not at the next minute


def test_ended_sale_refuses_buyers(shop, seeded):
    from livecommerce.orders.storage import FlashSaleItem, bind_all

    room_id = shop.room()
    sale = shop.flash_sale(room_id, shop.product(stock=10), stock=3, duration=10)
    bind_all()
    FlashSaleItem(*FlashSaleItem.key(sale["id"])).update(actions=[FlashSaleItem.ends_at.set("2000-01-01T00:00:00Z")])
    from livecommerce.orders import flash

    flash.clear_cache()
    ended = shop.buy("viewer-1", sale["id"])
    assert ended.status == 409 and ended.json()["code"] == "flash_sale_ended"
    assert shop.ok(shop.call("GET", f"/v1/flash-sales/{sale['id']}"))["state"] == "ended"
    assert sum(_shards(seeded, sale["id"])) == 3


def test_sold_out_is_answered_without_touching_the_stock(shop, seeded, monkeypatch):
    from livecommerce.orders import flash
    from livecommerce.shared.tx import Tx

    room_id = shop.room()
    sale = shop.flash_sale(room_id, shop.product(stock=10), stock=2)
    assert shop.ok(shop.buy("viewer-1", sale["id"]), 201)
    assert shop.ok(shop.buy("viewer-2", sale["id"]), 201)
    first = shop.buy("host-2", sale["id"])
    assert first.status == 409 and first.json()["code"] == "sold_out"
    assert shop.ok(shop.call("GET", f"/v1/flash-sales/{sale['id']}"))["state"] == "sold_out"

    writes = []
    monkeypatch.setattr(Tx, "commit", lambda self: writes.append(self.labels()))
    later = shop.buy("operator-1", sale["id"])
    assert later.status == 409 and later.json()["code"] == "sold_out"
    assert writes == []   # no transaction, no shard read: the sale item's mark answered
    monkeypatch.undo()

    # An expired hold comes back and reopens the sale.
    from livecommerce.orders import service

    assert service.expire_overdue(now_epoch=time.time() + 3600) == 2
    flash.clear_cache()
    assert shop.ok(shop.call("GET", f"/v1/flash-sales/{sale['id']}"))["stock_left"] == 2
    assert shop.ok(shop.buy("operator-1", sale["id"]), 201)
    # The buyers' limits came back with their units.
    assert shop.ok(shop.buy("viewer-1", sale["id"]), 201)


def test_cancelled_flash_order_returns_its_unit_and_the_buyers_allowance(shop, seeded):
    room_id = shop.room()
    sale = shop.flash_sale(room_id, shop.product(stock=10), stock=1, limit=1)
    order = shop.ok(shop.buy("viewer-1", sale["id"]), 201)
    assert shop.buy("viewer-2", sale["id"]).json()["code"] == "sold_out"
    shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/cancel", "viewer-1"))
    from livecommerce.orders import flash

    flash.clear_cache()
    assert _shards(seeded, sale["id"]) == [1]
    assert shop.ok(shop.buy("viewer-1", sale["id"]), 201)

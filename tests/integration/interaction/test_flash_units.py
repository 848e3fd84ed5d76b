"""A flash sale's units left on the room's card follow its buys, off the buy's path
(interaction.flash_units): real buys through the API on moto, their events through the real
EventBridge rules (the FlashSaleUnits subscription's kind filter) into the delivery queues, and
the broadcasts handler run on them the way Lambda runs them (concurrently for a burst). The units
are read from the sale's shards, at most once per window per sale: a burst of buys is one or two
publishes with the right number, a redelivered buy counts nothing twice, a cancel raises it and
the sold-out sale shows 0."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.commerce_fixtures import Shop

pytestmark = pytest.mark.integration


def _take(sqs, names, subscription: str) -> list[dict]:
    from local.resources import delivery_queue_name

    url = sqs.get_queue_url(QueueName=delivery_queue_name(names, subscription))["QueueUrl"]
    events = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return events
        for message in got:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_units_left_follow_buys_coalesced_idempotent_raised_by_a_cancel_and_zero_when_sold_out(
        api, tokens_for, ivs_env, aws_env, published, monkeypatch):
    from livecommerce import orders
    from livecommerce.interaction import broadcasts, flash_units, state_storage
    from livecommerce.orders import flash
    from livecommerce.shared import events
    from local.resources import LocalNames

    monkeypatch.setenv("STOCK_BROADCAST_INTERVAL_MS", "300")
    flash_units.clear_cache()
    reads = []
    real_read = orders.flash_sale_units_left
    monkeypatch.setattr(orders, "flash_sale_units_left", lambda sale_id: reads.append(sale_id) or real_read(sale_id))
    sqs, names = aws_env.client("sqs"), LocalNames()
    shop = Shop(api, tokens_for)
    room = shop.room()
    sale = shop.flash_sale(room, shop.product(stock=50), stock=6, limit=10)["id"]

    delivered: list[dict] = []

    def run(subscription: str, *, concurrently: bool = False) -> list[str]:
        got = _take(sqs, names, subscription)
        delivered[:] = got
        if not concurrently:
            return [broadcasts.handle(e) for e in got]
        with ThreadPoolExecutor(max(1, len(got))) as pool:    # one invocation per event, at once
            return list(pool.map(broadcasts.handle, got))

    def shown() -> list[dict]:
        return [m for m in published.on(f"{room}/state/flash_sale")]

    run("RoomBroadcasts")                                   # FlashSaleStarted: the card, then its units read
    assert shown()[-1]["stock"] == 6 and shown()[-1]["phase"] == "running"

    # A burst of buys: one or two reads and publishes (a window may end mid-burst), the right number.
    published.clear()
    reads.clear()
    bought = [shop.ok(shop.buy("viewer-1", sale), 201) for _ in range(5)]
    outcomes = run("FlashSaleUnits", concurrently=True)
    assert len(outcomes) == 5 and outcomes.count("units_published") in (1, 2), outcomes
    assert 1 <= len(shown()) <= 2 and len(reads) <= 2
    assert shown()[-1]["stock"] == 1 and shown()[-1]["phase"] == "running"
    assert not [m for m in published.on(f"{room}/events") if m["type"] == "order_created"]   # orders are private

    # A redelivered buy counts nothing again: the units are read, not subtracted.
    flash_units.clear_cache()                   # as in another container
    assert broadcasts.handle(delivered[0]) == "units_published"
    assert shown()[-1]["stock"] == 1

    # A cancel gives a unit back: the card rises (StockChanged of the sale).
    shop.ok(shop.call("POST", f"/v1/orders/{bought[0]['id']}/cancel", "viewer-1"))
    run("RoomBroadcasts")
    assert shown()[-1]["stock"] == 2 and shown()[-1]["phase"] == "running"

    # Sold out: the last units go, the next buy finds none; the card shows 0 and sold out.
    for _ in range(2):
        shop.ok(shop.buy("viewer-2", sale), 201)
    flash.clear_cache()
    assert shop.buy("viewer-2", sale).json()["code"] == "sold_out"
    run("FlashSaleUnits", concurrently=True)
    run("RoomBroadcasts")
    assert shown()[-1]["stock"] == 0 and shown()[-1]["phase"] == "sold_out"
    assert int(state_storage.current(room, "flash_sale").stock) == 0     # the entry snapshot agrees

    # A room order never reaches the units consumer (the rule passes kind flash_sale only).
    events.publish("OrderCreated", {**_order_detail(bought[0], room, sale), "kind": "room", "flash_sale_id": None})
    assert _take(sqs, names, "FlashSaleUnits") == []


def _order_detail(order: dict, room: str, sale: str) -> dict:
    from livecommerce.orders.events import OrderCreated

    return OrderCreated(order_id=order["id"], user_id="viewer-1", room_id=room, kind="flash_sale", flash_sale_id=sale,
                        subtotal=order["subtotal"], discount=order["discount"], total=order["total"],
                        lines=[{"product_id": ln["product_id"], "quantity": ln["quantity"],
                                "unit_price": ln["unit_price"]} for ln in order["lines"]],
                        pay_by="2030-01-01T00:00:00Z").detail()

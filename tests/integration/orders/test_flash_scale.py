"""Flash sales past 10,000 orders/s: shards from the expected rate, what one buy writes (counted
with a botocore hook), and the operator's pre-warm (UpdateTable WarmThroughput, botocore Stubber)."""
from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from benchmarks.meter import AwsMeter, item_bytes
from livecommerce.orders import prewarm, sharding
from tests.integration.commerce_fixtures import table_items

pytestmark = pytest.mark.integration

ORDERS, IDEM = "livecommerce-local-orders", "livecommerce-local-idempotency"


def _sizer(session):
    client = session.client("dynamodb")

    def size_of(table, key):
        found = client.get_item(TableName=table, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}}).get("Item")
        return item_bytes(found) if found else None
    return size_of


def test_big_sale_gets_shards_for_its_rate_and_a_buy_writes_what_the_docs_say(shop, seeded, monkeypatch):
    from livecommerce import rooms
    from livecommerce.orders import flash

    room_id = shop.room()
    pid = shop.product(stock=30_000)
    sale = shop.flash_sale(room_id, pid, stock=20_000, expected_orders_per_second=10_000)
    shards = table_items(seeded, "orders", f"FLASHSTOCK#{sale['id']}#")
    assert len(shards) == 20 and sum(int(s["left"]) for s in shards) == 20_000
    tiny = shop.flash_sale(room_id, pid, stock=3, expected_orders_per_second=10_000)
    assert len(table_items(seeded, "orders", f"FLASHSTOCK#{tiny['id']}#")) == 3     # never more shards than units
    too_fast = shop.call("POST", f"/v1/rooms/{room_id}/flash-sales", "host-1", {
        "product_id": pid, "price": 100, "stock": 1, "duration_seconds": 60, "expected_orders_per_second": 45_001})
    assert too_fast.status == 422
    # A crowd's buys find the sale and the room in the container's caches (0.5 s and 1 s): here the
    # windows are held open, so a loaded machine's slow requests between the two buys cannot expire them.
    monkeypatch.setattr(flash, "CACHE_SECONDS", 60.0)
    monkeypatch.setattr(rooms._recent, "seconds", 60.0)
    shop.ok(shop.buy("viewer-0", sale["id"]), 201)            # warms the container's caches (sale, room)
    shop.ok(shop.call("GET", "/v1/me/orders", "viewer-1"))     # viewer-1's first login, outside the count
    meter = AwsMeter()
    with meter.watching():
        order = shop.ok(shop.buy("viewer-1", sale["id"]), 201)
    assert order["kind"] == "flash_sale"
    with meter.paused():
        units = meter.write_units(_sizer(seeded))
    # The hot path: one transaction, the event published, its outbox item deleted; no read.
    assert meter.by_operation() == {"dynamodb:TransactWriteItems": 1, "events:PutEvents": 1,
                                    "dynamodb:DeleteItem": 1}
    assert units == {ORDERS: sharding.ORDER_WRITE_UNITS["Orders"], IDEM: sharding.ORDER_WRITE_UNITS["Idempotency"]}


def _stubbed(monkeypatch):
    client = boto3.client("dynamodb", region_name="ap-northeast-1")
    stub = Stubber(client)
    monkeypatch.setattr(prewarm.aws, "client", lambda service: client)
    return stub


def _described(name, write=None):
    table = {"TableName": name, "TableStatus": "ACTIVE"}
    if write is not None:
        table["WarmThroughput"] = {"ReadUnitsPerSecond": 12_000, "WriteUnitsPerSecond": write, "Status": "ACTIVE"}
    return {"Table": table}


def test_operator_prewarms_the_tables_for_a_big_sale(shop, monkeypatch):
    room_id = shop.room()
    pid = shop.product(stock=30_000)
    sale = shop.flash_sale(room_id, pid, stock=20_000, expected_orders_per_second=10_000)
    path = f"/v1/flash-sales/{sale['id']}/prewarm"
    assert shop.call("POST", path, "host-1").status == 403
    assert shop.call("POST", path, "viewer-1").status == 403
    stub = _stubbed(monkeypatch)
    stub.add_response("describe_table", _described(ORDERS), {"TableName": ORDERS})
    stub.add_response("update_table", {}, {"TableName": ORDERS, "WarmThroughput": {
        "ReadUnitsPerSecond": 12_000, "WriteUnitsPerSecond": 140_000}})
    stub.add_response("describe_table", _described(IDEM, write=40_000), {"TableName": IDEM})
    with stub:
        done = shop.ok(shop.call("POST", path, "operator-1"))
        stub.assert_no_pending_responses()
    assert done["shards"] == 20 and done["shard_ceiling_orders_per_second"] == 10_000
    assert done["tables"] == [
        {"table": "Orders", "write_units_needed": 140_000, "write_units_before": 4_000, "status": "warming"},
        {"table": "Idempotency", "write_units_needed": 20_000, "write_units_before": 40_000,
         "status": "already_warm"}]
    # A warm-up under way, and one past the table quota: clear 409s, never a 500.
    stub = _stubbed(monkeypatch)
    stub.add_response("describe_table", _described(ORDERS, write=4_000), {"TableName": ORDERS})
    stub.add_client_error("update_table", "ResourceInUseException", "Table is being updated")
    stub.add_response("describe_table", _described(ORDERS, write=4_000), {"TableName": ORDERS})
    stub.add_client_error("update_table", "LimitExceededException", "over the table quota")
    with stub:
        busy = shop.call("POST", path, "operator-1")
        refused = shop.call("POST", path, "operator-1")
    assert busy.status == 409 and busy.json()["code"] == "table_updating"
    assert refused.status == 409 and refused.json()["code"] == "warm_throughput_refused"
    plain = shop.flash_sale(room_id, pid, stock=10)
    missing = shop.call("POST", f"/v1/flash-sales/{plain['id']}/prewarm", "operator-1")
    assert missing.status == 409 and missing.json()["code"] == "expected_rate_missing"
    assert shop.call("POST", "/v1/flash-sales/01ARZ3NDEKTSV4RRFFQ69G5FAV/prewarm", "operator-1").status == 404


def test_a_crowd_reading_a_rooms_sales_finds_the_room_in_the_containers_copy(shop, monkeypatch):
    from livecommerce import rooms

    room_id = shop.room()
    pid = shop.product(stock=100)
    sale = shop.flash_sale(room_id, pid, stock=10)
    monkeypatch.setattr(rooms._recent, "seconds", 60.0)   # held open: a loaded machine cannot expire it
    shop.ok(shop.call("GET", f"/v1/flash-sales/{sale['id']}", "viewer-0"))   # warms the room copy
    shop.ok(shop.call("GET", "/v1/me/orders", "viewer-1"))     # viewer-1's first login, outside the count
    meter = AwsMeter()
    with meter.watching():
        one = shop.ok(shop.call("GET", f"/v1/flash-sales/{sale['id']}", "viewer-1"))
        listed = shop.ok(shop.call("GET", f"/v1/rooms/{room_id}/flash-sales", "viewer-1"))
    assert one["id"] == sale["id"] and [s["id"] for s in listed["items"]] == [sale["id"]]
    reads = meter.by_operation()
    # the sale, its units left (stock shards); the room's sales and their units left: no room read
    assert reads == {"dynamodb:GetItem": 1, "dynamodb:BatchGetItem": 2, "dynamodb:Query": 1}, reads

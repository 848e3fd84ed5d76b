"""Races and faults: many threads on the same stock and coupons, DynamoDB throttling
and transaction conflicts injected on a share of writes, lost responses after a
commit, duplicate payment notifications. Invariants: no oversell, no per-user
limit breach, no lost or doubled order, no double charge, and clients see a
retryable 409/429, never a 5xx.

moto is serialized per request (local.embedded_aws), so threads interleave
between requests exactly as concurrent Lambdas do against DynamoDB."""
from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.integration.commerce_fixtures import key, table_items

pytestmark = pytest.mark.integration

WRITES = {"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"}


class DynamoFaults:
    """Fails a share of DynamoDB writes the way DynamoDB does once the SDK's own retries are spent."""

    def __init__(self, rate: float, *, seed: int = 7, lost_responses: bool = True) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.lost_responses = lost_responses
        self.injected = Counter()
        self.active = False

    def _pick(self, operation: str) -> str | None:
        with self.lock:
            if not self.active or operation not in WRITES or self.rng.random() >= self.rate:
                return None
            modes = ["throttle", "conflict"] + (["lost_response"] if self.lost_responses else [])
            mode = self.rng.choice(modes)
            self.injected[mode] += 1
            return mode

    @staticmethod
    def _error(operation: str, mode: str, params: dict) -> ClientError:
        if mode == "conflict":
            if operation == "TransactWriteItems":
                reasons = [{"Code": "None"} for _ in params.get("TransactItems", [])]
                reasons[0] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
                return ClientError({"Error": {"Code": "TransactionCanceledException",
                                              "Message": "Transaction cancelled [TransactionConflict]"},
                                    "CancellationReasons": reasons}, operation)
            return ClientError({"Error": {"Code": "TransactionConflictException",
                                          "Message": "Transaction is ongoing for the item"}}, operation)
        return ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate of requests exceeds"}},
                           operation)

    def install(self, monkeypatch) -> "DynamoFaults":
        original = BaseClient._make_api_call
        faults = self

        def patched(client, operation_name, api_params):
            if client.meta.service_model.service_name != "dynamodb":
                return original(client, operation_name, api_params)
            mode = faults._pick(operation_name)
            if mode is None:
                return original(client, operation_name, api_params)
            if mode == "lost_response":       # committed, but the answer never arrived
                original(client, operation_name, api_params)
                mode = "throttle"
            raise faults._error(operation_name, mode, api_params)

        monkeypatch.setattr(BaseClient, "_make_api_call", patched)
        return self


def retrying(call, *, attempts: int = 40):
    """A client that retries what the API calls retryable (409/429 with retryable), with the same key."""
    seen = []
    for _ in range(attempts):
        response = call()
        seen.append(response.status)
        body = response.json() if response.body and response.body.startswith("{") else {}
        if response.status in (409, 429) and body.get("retryable"):
            continue
        return response, seen
    raise AssertionError(f"still retryable after {attempts} attempts: {seen}")


def _buyers(shop, n, prefix="buyer"):
    users = [f"{prefix}-{i}" for i in range(n)]
    for user in users:
        shop.token(user)   # log in before any fault is armed
    return users


def _flash_orders(session, sale_id):
    return [i for i in table_items(session, "orders", "ORDER#")
            if i["sk"] == "META" and i.get("flash_sale_id") == sale_id]


def test_many_buyers_one_flash_sale_no_oversell_no_limit_breach(shop, seeded):
    room_id = shop.room()
    sale = shop.flash_sale(room_id, shop.product(stock=100), stock=12, limit=2)
    users = _buyers(shop, 24)

    def attempt(user):
        # Each buyer fires three buys at once (double taps), each its own key.
        return [shop.buy(user, sale["id"]) for _ in range(3)]

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = [r for batch in pool.map(attempt, users * 1) for r in batch]
    statuses = Counter(r.status for r in results)
    assert all(s < 500 for s in statuses), statuses
    created = [r.json() for r in results if r.status == 201]
    assert len(created) == 12
    codes = Counter(r.json()["code"] for r in results if r.status == 409)
    assert set(codes) <= {"sold_out", "per_user_limit", "concurrent_update"}
    per_user = Counter(o["user_id"] for o in _flash_orders(seeded, sale["id"]))
    assert sum(per_user.values()) == 12 and max(per_user.values()) <= 2
    shards = [int(i["left"]) for i in table_items(seeded, "orders", f"FLASHSTOCK#{sale['id']}#")]
    assert sum(shards) == 0 and min(shards) == 0
    buyers = {i["pk"].split("#")[2]: int(i["count"]) for i in table_items(seeded, "orders", f"FLASHBUYER#{sale['id']}#")}
    assert buyers == {u: c for u, c in per_user.items()}


def test_many_viewers_one_coupon_drop(shop, seeded):
    room_id = shop.room()
    tpl = shop.template(room_id, total=10, per_user_limit=2)
    drop = shop.drop(room_id, tpl["id"])
    users = _buyers(shop, 16, "claimer")

    def attempt(user):
        return [shop.claim(user, drop["id"]) for _ in range(3)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = [r for batch in pool.map(attempt, users) for r in batch]
    assert all(r.status < 500 for r in results)
    coupons = [i for i in table_items(seeded, "marketing", "USER#") if str(i["sk"]).startswith("COUPON#")]
    assert len(coupons) == 10 == len([r for r in results if r.status == 201])
    assert max(Counter(c["user_id"] for c in coupons).values()) <= 2
    left = [i for i in table_items(seeded, "marketing", f"CDROP#{drop['id']}") if i["sk"] == "META"][0]["left"]
    assert left == 0


def test_many_buyers_one_room_product(shop, seeded):
    room_id, (pid,) = shop.listed_room(live_stock=15)
    users = _buyers(shop, 20, "roomer")
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda u: shop.order(u, room_id, [{"product_id": pid, "quantity": 1}]), users))
    assert all(r.status < 500 for r in results)
    assert Counter(r.status for r in results)[201] == 15
    assert shop.cards(room_id)[pid]["stock_left"] == 0 and shop.cards(room_id)[pid]["state"] == "sold_out"


def test_flash_sale_under_throttling_conflicts_and_lost_responses(shop, seeded, monkeypatch):
    room_id = shop.room()
    sale = shop.flash_sale(room_id, shop.product(stock=100), stock=10, limit=1)
    users = _buyers(shop, 20, "stormer")
    faults = DynamoFaults(0.3).install(monkeypatch)
    faults.active = True
    keys = {u: key() for u in users}
    statuses: list[int] = []

    def attempt(user):
        response, seen = retrying(lambda: shop.buy(user, sale["id"], idem=keys[user]))
        statuses.extend(seen)
        return user, response

    with ThreadPoolExecutor(max_workers=20) as pool:
        finals = dict(pool.map(attempt, users))
    faults.active = False
    assert sum(faults.injected.values()) > 0, "no fault was injected"
    assert all(s < 500 for s in statuses), Counter(statuses)
    assert 429 in statuses or 409 in statuses
    won = {u: r.json()["id"] for u, r in finals.items() if r.status == 201}
    lost = {u: r.json()["code"] for u, r in finals.items() if r.status != 201}
    assert set(lost.values()) <= {"sold_out"}, lost
    orders = _flash_orders(seeded, sale["id"])
    shards = sum(int(i["left"]) for i in table_items(seeded, "orders", f"FLASHSTOCK#{sale['id']}#"))
    # Conservation: every unit is either in a shard or held by exactly one order; nothing oversold.
    assert len(orders) + shards == 10 and len(orders) <= 10
    assert len(won) == len(orders) == 10 - shards
    # Every winner's answer is the order that exists (a lost response was answered by the replay), one per buyer.
    assert sorted(won.values()) == sorted(o["order_id"] for o in orders)
    assert max(Counter(o["user_id"] for o in orders).values()) == 1
    # Retried buys with the same key return the same order, now that the storm is over.
    for user, order_id in won.items():
        assert shop.ok(shop.buy(user, sale["id"], idem=keys[user]), 201)["id"] == order_id


def test_room_orders_and_claims_under_faults(shop, seeded, monkeypatch):
    room_id, (pid,) = shop.listed_room(live_stock=12, live_price=5000)
    tpl = shop.template(room_id, kind="no_threshold", amount=500, threshold=0, total=8)
    drop = shop.drop(room_id, tpl["id"])
    users = _buyers(shop, 12, "mixed")
    faults = DynamoFaults(0.3, seed=11).install(monkeypatch)
    faults.active = True
    statuses: list[int] = []

    def journey(user):
        k1, k2 = key(), key()
        claimed, seen = retrying(lambda: shop.claim(user, drop["id"], idem=k1))
        statuses.extend(seen)
        ordered, seen = retrying(lambda: shop.order(user, room_id, [{"product_id": pid, "quantity": 1}], idem=k2))
        statuses.extend(seen)
        return user, claimed, ordered

    with ThreadPoolExecutor(max_workers=12) as pool:
        journeys = list(pool.map(journey, users))
    faults.active = False
    assert sum(faults.injected.values()) > 0
    assert all(s < 500 for s in statuses), Counter(statuses)
    coupons = [i for i in table_items(seeded, "marketing", "USER#mixed-") if str(i["sk"]).startswith("COUPON#")]
    assert len(coupons) == 8 and max(Counter(c["user_id"] for c in coupons).values()) == 1
    orders = [i for i in table_items(seeded, "orders", "ORDER#") if i["sk"] == "META" and i["room_id"] == room_id]
    assert len(orders) == 12 == len({o["user_id"] for o in orders})
    assert shop.cards(room_id)[pid]["stock_left"] == 0
    # Each coupon is locked by at most one order, and every order that used one holds it.
    locked = {c["coupon_id"]: c.get("order_id") for c in coupons if c["state"] == "locked"}
    used = [o for o in orders if o.get("coupon_id")]
    assert sorted(locked) == sorted(o["coupon_id"] for o in used)
    assert all(locked[o["coupon_id"]] == o["order_id"] for o in used)
    for o in orders:
        assert int(o["total"]) == int(o["subtotal"]) - int(o["discount"])


def test_duplicate_notifications_under_faults_charge_once(shop, seeded, payments, monkeypatch):
    from urllib.parse import urlsplit

    wechat, alipay = payments
    room_id, (pid,) = shop.listed_room(live_stock=10, live_price=3000)
    orders = []
    for user in _buyers(shop, 4, "payer"):
        order = shop.ok(shop.order(user, room_id, [{"product_id": pid, "quantity": 1}]), 201)
        channel = "wechat" if len(orders) % 2 == 0 else "alipay"
        shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/payments", user, {"channel": channel}, idem=key()))
        note = (wechat if channel == "wechat" else alipay).pay(order["id"], deliver=False)
        orders.append((order, user, note))
    faults = DynamoFaults(0.3, seed=3).install(monkeypatch)
    faults.active = True
    statuses = []

    def deliver(note):
        # Providers retry until acknowledged; each of our copies is a provider retry.
        for _ in range(40):
            response = shop.api.call("POST", urlsplit(note.url).path, headers=note.headers, raw_body=note.body)
            statuses.append(response.status)
            if response.status == 200:
                return
        raise AssertionError("never acknowledged")

    copies = [note for _, _, note in orders for _ in range(5)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(deliver, copies))
    faults.active = False
    assert sum(faults.injected.values()) > 0
    assert all(s != 500 for s in statuses) and all(s in (200, 409, 429, 503) for s in statuses), Counter(statuses)
    for order, user, _ in orders:
        state = shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", user))
        assert state["state"] == "paid"
        settlements = [i for i in table_items(seeded, "orders", f"ORDER#{order['id']}") if i["sk"].startswith("TXN#")]
        assert [s["outcome"] for s in settlements] == ["applied"]


def test_sweeper_publishes_events_stranded_by_lost_responses(shop, seeded, monkeypatch):
    """A buy whose answer was lost after the commit never flushed its outbox: the schedule does, once."""
    from livecommerce.shared import events
    from local.event_delivery import drain
    from local.lambda_runtime import invoke
    from local.resources import LocalNames

    room_id = shop.room()
    sale = shop.flash_sale(room_id, shop.product(stock=10), stock=3)
    drain(seeded, LocalNames())
    def crashed(*args, **kwargs):   # the crash (or a bus outage) between the commit and the publish
        raise events.EventPublishError("gone")

    monkeypatch.setattr(events, "publish", crashed)
    monkeypatch.setattr(events, "publish_many", crashed)
    k = key()
    order = shop.ok(shop.buy("viewer-1", sale["id"], idem=k), 201)
    monkeypatch.undo()
    assert [i for i in table_items(seeded, "orders", f"ORDER#{order['id']}") if i["sk"].startswith("OUTBOX#")]
    from livecommerce.orders import jobs

    assert jobs.sweep_outbox(older_than_seconds=-5) >= 1
    assert invoke("order_expiry", {"id": "tick"})["outbox_swept"] == 0
    drain(seeded, LocalNames())
    created = [i for i in table_items(seeded, "eventlog") if i.get("detail_type") == "OrderCreated"]
    assert len(created) == 1

"""A product's statistics across sessions, scoped by who asks (docs/product-stats-scope.md): a host
reads the sessions of their own rooms that presented the product, an operator every room's. The rooms
come from analytics' index of presenting events (analytics.product_room_index), fed by the real
domain-event consumer on moto; the store is DuckDB on Parquet as the local stack runs it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from benchmarks.report_traffic import PRODUCTS, synthesize
from livecommerce.analytics import queries

pytestmark = pytest.mark.integration


def _room(api, token: str, title: str) -> str:
    start = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    created = api.call("POST", "/v1/rooms", token=token, json_body={"title": title, "scheduled_start": start})
    assert created.status == 201, created.body
    return created.json()["id"]


def _presented(room_id: str, product_ids: list[str], n: int) -> dict:
    """The EventBridge event catalog's outbox publishes when a room's presets are replaced."""
    return {"id": f"eb-{room_id}-{n}", "detail-type": "RoomProductsPreset", "source": "livecommerce.catalog",
            "time": "2026-12-05T11:00:00Z",
            "detail": {"room_id": room_id, "product_ids": product_ids, "event_id": f"ev-{room_id}-{n}"}}


def _get_all(api, token: str, path: str) -> tuple[list[dict], int]:
    """Every session over every page of `path` (which carries ?limit=), and how many pages it took."""
    sessions, cursor, pages = [], None, 0
    while True:
        answer = api.call("GET", path + (f"&cursor={cursor}" if cursor else ""), token=token)
        assert answer.status == 200, answer.body
        pages += 1
        sessions += answer.json()["sessions"]
        cursor = answer.json()["cursor"]
        if cursor is None:
            return sessions, pages


def test_a_preset_in_a_room_indexes_the_room_for_the_product(api, tokens_for, seeded):
    """The producer's side: catalog's RoomProductsPreset goes through the bus's EventLog
    subscription to the consumer, which files the room (with its host) under the product, once."""
    from livecommerce.analytics import product_room_index
    from local.event_delivery import drain_queue
    from local.resources import LocalNames, delivery_queue_name

    operator, host = tokens_for("operator-1"), tokens_for("host-1")
    product = api.call("POST", "/v1/products", token=operator,
                       json_body={"name": "茶具", "list_price": 9900, "stock": 50})
    assert product.status == 201, product.body
    product_id = product.json()["id"]
    room_id = _room(api, host, "上新")
    preset = api.call("PUT", f"/v1/rooms/{room_id}/products", token=host, json_body={
        "items": [{"product_id": product_id, "live_price": 8900, "live_stock": 10}]})
    assert preset.status == 200, preset.body
    sqs = seeded.client("sqs")
    url = sqs.get_queue_url(QueueName=delivery_queue_name(LocalNames(), "EventLog"))["QueueUrl"]
    assert drain_queue(sqs, url, "domain_events") >= 1
    roles = frozenset({"operator"})
    assert product_room_index.page(product_id, user_id="operator-1", roles=roles, limit=10, cursor=None) \
        == ([room_id], None)
    assert product_room_index.page(product_id, user_id="host-1", roles=frozenset({"host"}), limit=10,
                                   cursor=None) == ([room_id], None)
    assert product_room_index.page(product_id, user_id="host-2", roles=frozenset({"host"}), limit=10,
                                   cursor=None) == ([], None)
    # the presets replaced without the product: the room stays filed under it (it was presented there)
    assert api.call("PUT", f"/v1/rooms/{room_id}/products", token=host, json_body={"items": []}).status == 200
    drain_queue(sqs, url, "domain_events")
    assert product_room_index.page(product_id, user_id="operator-1", roles=roles, limit=10, cursor=None) \
        == ([room_id], None)

    # history from before the index: a listing kept in the event log only, indexed by the backfill
    from livecommerce.analytics.event_log import record

    older = _room(api, tokens_for("host-2"), "旧场次")
    assert record({"id": "eb-old", "detail-type": "ProductListed", "source": "livecommerce.catalog",
                   "time": "2026-01-01T00:00:00Z", "detail": {"room_id": older, "product_id": product_id,
                                                              "name": "茶具", "live_price": 1, "stock_left": 1}})
    assert product_room_index.page(product_id, user_id="host-2", roles=frozenset({"host"}), limit=10,
                                   cursor=None) == ([], None)
    assert product_room_index.backfill() >= 2
    assert sorted(product_room_index.page(product_id, user_id="operator-1", roles=roles, limit=10,
                                          cursor=None)[0]) == sorted([room_id, older])
    assert product_room_index.page(product_id, user_id="host-2", roles=frozenset({"host"}), limit=10,
                                   cursor=None) == ([older], None)


def test_hosts_see_their_rooms_operators_every_room_paged_and_compared(api, tokens_for, seeded, tmp_path,
                                                                       monkeypatch):
    from livecommerce.analytics import report_service
    from local.lambda_runtime import invoke

    host1, host2, operator = tokens_for("host-1"), tokens_for("host-2"), tokens_for("operator-1")
    a1, a2, b1 = _room(api, host1, "一号"), _room(api, host1, "二号"), _room(api, host2, "三号")
    unpresented = _room(api, host1, "没上架")          # has sessions of the product in the store, never presented it
    truths = {room: synthesize(tmp_path, viewers=80, minutes=6, seed=n, room_id=room, host_id=host)
              for n, (room, host) in enumerate(((a1, "host-1"), (a2, "host-1"), (b1, "host-2"),
                                                (unpresented, "host-1")))}
    queries.use_engine(queries.DuckDbEngine(tmp_path))
    try:
        p0, p1 = PRODUCTS[0], PRODUCTS[1]
        for n, room in enumerate((a1, a2, b1)):
            event = _presented(room, [p0, p1], n)
            assert invoke("domain_events", event) == {"stored": True}
            assert invoke("domain_events", event) == {"stored": False}     # a repeat delivery: indexed once

        def sold(room: str, product: str) -> tuple[int, int, int]:
            s = truths[room]["products"].get(product, {"orders": 0, "units": 0, "gmv": 0})
            return s["orders"], s["units"], s["gmv"]

        def figures(sessions: list[dict]) -> dict[str, tuple[int, int, int]]:
            return {s["room_id"]: (s["orders"], s["units"], s["gmv"]) for s in sessions}

        # a host: their own presenting rooms only (not host-2's, not the room that never presented it)
        mine = api.call("GET", f"/v1/products/{p0}/stats", token=host1)
        assert mine.status == 200, mine.body
        assert mine.json()["cursor"] is None
        assert figures(mine.json()["sessions"]) == {a1: sold(a1, p0), a2: sold(a2, p0)}
        assert all(s["impressions"] > 0 for s in mine.json()["sessions"])
        assert figures(api.call("GET", f"/v1/products/{p0}/stats", token=host2).json()["sessions"]) \
            == {b1: sold(b1, p0)}
        # an operator hosts no room and sees every presenting room, of both hosts, one room a page
        every, pages = _get_all(api, operator, f"/v1/products/{p0}/stats?limit=1")
        assert pages == 3 and figures(every) == {a1: sold(a1, p0), a2: sold(a2, p0), b1: sold(b1, p0)}
        assert sum(s["gmv"] for s in every) > 0
        # a cursor is bound to its product and its caller
        cursor = api.call("GET", f"/v1/products/{p0}/stats?limit=1", token=operator).json()["cursor"]
        for path, token in ((f"/v1/products/{p0}/stats?limit=1&cursor={cursor}", host1),
                            (f"/v1/products/{p1}/stats?limit=1&cursor={cursor}", operator)):
            refused = api.call("GET", path, token=token)
            assert refused.status == 422 and refused.json()["code"] == "invalid_cursor", refused.body
        # a viewer is refused as before; a bad limit is a problem, not a 500
        assert api.call("GET", f"/v1/products/{p0}/stats", token=tokens_for("viewer-1")).status == 403
        assert api.call("GET", f"/v1/products/{p0}/stats?limit=0", token=operator).status == 422

        # the products compared: every presenting room the caller may read, all pages of them
        def totals(token: str) -> dict[str, tuple[int, int, int, int]]:
            answer = api.call("GET", f"/v1/stats/compare?products={p0},{p1}", token=token)
            assert answer.status == 200, answer.body
            return {p["product_id"]: (p["sessions"], p["orders"], p["units"], p["gmv"])
                    for p in answer.json()["products"]}

        def expected(product: str, rooms: tuple[str, ...]) -> tuple[int, int, int, int]:
            figs = [sold(r, product) for r in rooms]
            return (len(rooms), *(sum(f[i] for f in figs) for i in range(3)))

        everyone = {p: expected(p, (a1, a2, b1)) for p in (p0, p1)}
        assert totals(operator) == everyone
        assert totals(host1) == {p: expected(p, (a1, a2)) for p in (p0, p1)}
        monkeypatch.setattr(report_service, "QUERY_ROOMS", 2)      # more rooms than one query's page
        assert totals(operator) == everyone
    finally:
        queries.use_engine(None)

"""Domain events, likes and danmaku into the analytics store, the local way AWS does it: every
domain event on the bus goes whole (the store rule's queue) to the Firehose stand-in's events
stream, whose transformation (event_rows.firehose_transform, the events_transform Lambda on AWS)
makes the rows; likes and danmaku go from the interaction table's stream through the realtime
batcher, which puts them with boto3's PutRecordBatch into the same stream (the stand-in served over
Firehose's JSON protocol). Then the report SQL reads them in DuckDB."""
from __future__ import annotations

import json

import pytest

from livecommerce.analytics import queries, room_scope
from tests.integration.commerce_fixtures import *  # noqa: F401,F403 - the shop fixture

pytestmark = pytest.mark.integration


def test_orders_follows_coupons_likes_and_danmaku_reach_the_store(shop, api, tokens_for, seeded, tmp_path,
                                                                   monkeypatch):
    from livecommerce.interaction.spec import INTERACTION
    from livecommerce.shared import aws
    from local.event_delivery import drain_to_store
    from local.firehose import LocalFirehose, serve
    from local.mqtt.streams import StreamPump
    from local.resources import STORE_RULE, LocalNames, delivery_queue_name

    names = LocalNames()
    firehose = LocalFirehose(tmp_path, buffer_records=100_000)
    server, url = serve(firehose, "127.0.0.1", 0, prefix=names.prefix)
    monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", url)
    aws.reset_clients()
    sqs = seeded.client("sqs")
    store_queue = sqs.get_queue_url(QueueName=delivery_queue_name(names, STORE_RULE))["QueueUrl"]
    sqs.purge_queue(QueueUrl=store_queue)
    pump = StreamPump(seeded, {"Interaction": INTERACTION.physical_name(names.prefix)})
    pump.drain()                                 # what earlier writes left on the stream
    queries.use_engine(queries.DuckDbEngine(tmp_path))
    try:
        room_id, (product_id,) = shop.listed_room(live_price=9900)
        shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/start", "host-1"))
        shop.ok(shop.call("PUT", "/v1/hosts/host-1/follow", "viewer-1"))
        order = shop.ok(shop.order("viewer-1", room_id, [{"product_id": product_id, "quantity": 2}]))
        template = shop.template(room_id)
        drop = shop.drop(room_id, template["id"])
        shop.ok(shop.claim("viewer-2", drop["id"]))
        likes = [shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/likes", user, {"count": n}), 202)["accepted"]
                 for user, n in (("viewer-1", 5), ("viewer-1", 3), ("viewer-2", 4))]
        sent = [shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/danmaku", user, {"text": text}))["id"]
                for user, text in (("viewer-1", "有黑色吗"), ("viewer-2", "尺码偏大吗"), ("viewer-1", "已下单"))]

        assert pump.drain() > 0                  # stream -> realtime_batcher (likes totals and store facts)
        assert drain_to_store(sqs, store_queue, firehose.put_record_batch) > 0   # bus -> the events stream
        firehose.flush()
        assert firehose.failed == []

        rows = queries.DuckDbEngine(tmp_path).execute(
            "SELECT type, room_id, user_id, amount_fen, order_id, detail FROM events ORDER BY occurred_at", [])
        by_type: dict[str, list[dict]] = {}
        for row in rows:
            by_type.setdefault(row["type"], []).append(row)
        (created,) = by_type["OrderCreated"]
        assert (created["room_id"], created["user_id"], created["order_id"]) == (room_id, "viewer-1", order["id"])
        assert created["amount_fen"] == order["total"] == 2 * 9900
        assert json.loads(created["detail"])["order_id"] == order["id"]          # detail is the JSON text
        (followed,) = by_type["HostFollowed"]
        assert json.loads(followed["detail"])["host_id"] == "host-1"
        assert json.loads(by_type["RoomStarted"][0]["detail"])["host_id"] == "host-1"
        (claimed,) = by_type["CouponClaimed"]
        assert (claimed["room_id"], claimed["user_id"]) == (room_id, "viewer-2")
        like_counts: dict[str, int] = {}
        for row in by_type["LikesAdded"]:
            assert row["room_id"] == room_id
            like_counts[row["user_id"]] = like_counts.get(row["user_id"], 0) + json.loads(row["detail"])["count"]
        assert like_counts == {"viewer-1": likes[0] + likes[1], "viewer-2": likes[2]} == {"viewer-1": 8, "viewer-2": 4}
        assert sorted(json.loads(r["detail"])["message_id"] for r in by_type["DanmakuSent"]) == sorted(sent)
        assert {r["user_id"] for r in by_type["DanmakuSent"]} == {"viewer-1", "viewer-2"}

        # The report SQL reads them (room scope: likes as detail.count units; no beacons, so every
        # like and danmaku is 'never_watched' and counted raw only)
        with room_scope.open(room_id, queries.DuckDbEngine(tmp_path)) as scope:
            report = {r["type"]: r for r in scope.run("report_events", host_id="host-1")}
        assert report["LikesAdded"]["raw_units"] == 12 and report["LikesAdded"]["accepted_units"] == 0
        assert report["DanmakuSent"]["raw_count"] == 3
        assert report["NewFollower"]["raw_count"] == 1
        assert report["OrderCreated"]["accepted_fen"] == 2 * 9900
        assert report["CouponClaimed"]["accepted_count"] == 1
    finally:
        queries.use_engine(None)
        server.shutdown()
        aws.reset_clients()

"""Live figures on moto: IoT Core lifecycle events in (as the IoT rule hands them to the function),
paid orders counted once, figures out on GET /stats/live and pushed on the room's staff topic; the ticker
keeps to one per room and stops when the room ends."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from livecommerce.orders.events import OrderPaid

pytestmark = pytest.mark.integration


def _published(region: str, suffix: str) -> list[dict]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iotdata.models import iotdata_backends

    payloads = iotdata_backends[DEFAULT_ACCOUNT_ID][region].published_payloads
    return [json.loads(p) for topic, p in payloads if topic.endswith(suffix)]


def _lifecycle(kind: str, client: str, at: int, *topics: str) -> dict:
    event = {"clientId": client, "timestamp": at, "eventType": kind, "sessionIdentifier": "s",
             "principalIdentifier": "p"}
    if kind in ("subscribed", "unsubscribed"):
        event["topics"] = list(topics)
    return event


def test_presence_orders_figures_push_and_ticker(api, tokens_for, ivs_env, seeded):
    from livecommerce.analytics import live
    from local.event_delivery import drain_queue
    from local.lambda_runtime import invoke
    from local.resources import LocalNames, delivery_queue_name

    stage, region = os.environ["STAGE"], seeded.region_name
    host = tokens_for("host-1")
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    room = api.call("POST", "/v1/rooms", token=host, json_body={"title": "直播数据", "scheduled_start": start}).json()["id"]
    assert api.call("POST", f"/v1/rooms/{room}/start", token=host).status == 200
    sqs = seeded.client("sqs")
    queue = sqs.get_queue_url(QueueName=delivery_queue_name(LocalNames(), "LiveFigures"))["QueueUrl"]
    assert drain_queue(sqs, queue, "live_stats") == 1   # RoomStarted -> the ticker's first tick
    [first] = _published(region, f"/rooms/{room}/staff")
    assert first["type"] == "live_stats" and first["online"] == 0 and first["room_id"] == room

    events_topic, danmaku = f"lc/{stage}/rooms/{room}/events", f"lc/{stage}/rooms/{room}/danmaku"
    a, b, c, d = (f"lc-{stage}-{user}-{n * 12}" for user, n in (
        ("viewer-1", "a"), ("viewer-2", "b"), ("viewer-1", "c"), ("viewer-5", "d")))
    for event in (
        _lifecycle("subscribed", a, 1000, danmaku, events_topic),
        _lifecycle("subscribed", a, 1000, danmaku, events_topic),         # delivered twice
        _lifecycle("subscribed", b, 1100, events_topic),
        _lifecycle("subscribed", c, 1200, events_topic),                  # viewer-1's second screen
        _lifecycle("disconnected", d, 2000),                              # out of order: the leave first,
        _lifecycle("subscribed", d, 1500, events_topic),                  # then its older join: ignored
        _lifecycle("subscribed", f"lc-prod-viewer-9-{'e' * 12}", 1300, events_topic.replace(stage, "prod")),
        _lifecycle("subscribed", "mqtt-explorer-1", 1300, events_topic),  # not one of our clients
        _lifecycle("connected", a, 900),
    ):
        invoke("live_stats", event)
    assert live.live_stats(room).online == 3
    invoke("live_stats", {"room_id": room, "host_id": "host-1", "ticker_id": "t1"})      # a tick: peak 3
    invoke("live_stats", _lifecycle("unsubscribed", a, 1300, danmaku))   # still on the events topic
    invoke("live_stats", _lifecycle("disconnected", b, 1400))
    invoke("live_stats", _lifecycle("disconnected", b, 1400))            # twice
    invoke("live_stats", _lifecycle("unsubscribed", c, 1450, events_topic))

    paid = OrderPaid(order_id="01J0000000000000000000ORD1", user_id="viewer-1", room_id=room, kind="room",
                     subtotal=2500, discount=0, total=2500, lines=[], channel="wechat", transaction_id="tx",
                     paid_at=datetime.now(timezone.utc).isoformat())
    envelope = {"id": "e1", "source": "livecommerce", "detail-type": "OrderPaid",
                "detail": {**paid.detail(), "event_id": "o1"}}
    assert invoke("live_stats", envelope) == {"counted": True}
    assert invoke("live_stats", envelope) == {"counted": False}         # redelivered: counted once

    body = api.call("GET", f"/v1/rooms/{room}/stats/live", token=host)
    assert body.status == 200, body.body
    figures = body.json()
    assert (figures["online"], figures["peak_online"], figures["cumulative_viewers"]) == (1, 3, 2)
    assert (figures["orders"], figures["gmv"]) == (1, 2500)
    assert sum(m["orders"] for m in figures["per_minute"]) == 1 and max(m["online"] for m in figures["per_minute"]) == 3
    pushed = _published(region, f"/rooms/{room}/staff")[-1]
    assert pushed["online"] == 3 and pushed["peak_online"] == 3          # what the tick pushed

    # who may read them: the host, operators, the room's assistant; not viewers nor another host
    assert api.call("GET", f"/v1/rooms/{room}/stats/live", token=tokens_for("operator-1")).status == 200
    tokens_for("viewer-3")
    assert api.call("PUT", f"/v1/rooms/{room}/assistants/viewer-3", token=host, json_body={}).status == 200
    assert api.call("GET", f"/v1/rooms/{room}/stats/live", token=tokens_for("viewer-3")).status == 200
    for other in ("viewer-1", "host-2"):
        refused = api.call("GET", f"/v1/rooms/{room}/stats/live", token=tokens_for(other))
        assert refused.status == 403 and refused.json()["code"] in ("host_required", "not_room_host")

    # the ticker: a tick every 5 s (at 0, 5, 10 s of a 12 s run), then hand-over; one ticker per room (a lease)
    now = [__import__("time").time() + 100]
    handed = []
    result = live.run_ticker(room, "host-1", "t2", run_seconds=12, clock=lambda: now[0],
                             sleep=lambda s: now.__setitem__(0, now[0] + s), hand_over=handed.append)
    assert result["stopped"] == "handed_over" and result["ticks"] == 3 and handed[0]["ticker_id"] == "t2"
    failed = live.run_ticker(room, "host-1", "t2", run_seconds=4, clock=lambda: now[0], sleep=lambda s: None,
                             hand_over=lambda payload: False)
    assert failed["stopped"] == "hand_over_failed"
    rival = live.run_ticker(room, "host-1", "t3", run_seconds=12, clock=lambda: now[0], sleep=lambda s: None)
    assert rival["stopped"] == "another_ticker" and rival["ticks"] == 0
    assert api.call("POST", f"/v1/rooms/{room}/end", token=host).status == 200
    ended = live.run_ticker(room, "host-1", "t2", run_seconds=12, clock=lambda: now[0], sleep=lambda s: None)
    assert ended["stopped"] == "room_not_live"

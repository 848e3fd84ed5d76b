"""Live figures with real MQTT clients (paho over WebSocket) on the local broker: the broker emits
IoT Core's lifecycle events (local/mqtt/lifecycle.py), they reach the live-figures function as the
IoT rules hand them on AWS, and GET /stats/live counts the viewer in and out."""
from __future__ import annotations

import json
import queue
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from livecommerce.interaction import policy, topics
from local.mqtt import LocalBroker
from tests.polling import poll

pytestmark = pytest.mark.integration
paho = pytest.importorskip("paho.mqtt.client")


def test_real_clients_move_the_online_figure(api, tokens_for, ivs_env, seeded):
    from local.lambda_runtime import invoke
    from livecommerce.interaction.settings import get_interaction_settings
    from paho.mqtt.enums import CallbackAPIVersion

    stage = get_interaction_settings().stage
    host = tokens_for("host-1")
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    room = api.call("POST", "/v1/rooms", token=host, json_body={"title": "在线", "scheduled_start": start}).json()["id"]

    def authorize(event: dict) -> dict:
        client_id = event["protocolData"]["mqtt"]["clientId"]
        user = client_id.split("-")[2] + "-" + client_id.split("-")[3]
        document = policy.viewer_policy(partition="aws", region="ap-northeast-1", account="123456789012",
                                        stage=stage, room_id=room, user_id=user, client_id=client_id)
        return {"isAuthenticated": True, "principalId": user, "policyDocuments": [json.dumps(document)],
                "disconnectAfterInSeconds": 3600, "refreshAfterInSeconds": 300}

    events: list[tuple[str, dict]] = []

    def sink(topic: str, payload: dict) -> None:
        events.append((topic, payload))
        invoke("live_stats", payload)

    broker = LocalBroker(authorizer=authorize, lifecycle=sink)
    broker.start()
    clients = []
    try:
        def online() -> int:
            return api.call("GET", f"/v1/rooms/{room}/stats/live", token=host).json()["online"]

        for user in ("viewer-1", "viewer-2"):
            subscribed: "queue.Queue[list]" = queue.Queue()
            client = paho.Client(CallbackAPIVersion.VERSION2, client_id=topics.new_client_id(stage, user),
                                 transport="websockets", protocol=paho.MQTTv311)
            ws = urlsplit(broker.urls["ws"])
            client.ws_set_options(path=ws.path)
            client.username_pw_set(room, "token")
            client.on_subscribe = lambda c, u, mid, rcs, p, q=subscribed: q.put(rcs)
            client.connect(ws.hostname, ws.port, keepalive=30)
            client.loop_start()
            client.subscribe([(topics.events_topic(stage, room), 0), (topics.danmaku_topic(stage, room), 0)])
            subscribed.get(timeout=10)
            clients.append(client)
        assert poll(lambda: online() == 2, timeout=10)
        clients[0].disconnect()
        clients[0].loop_stop()
        assert poll(lambda: online() == 1, timeout=10)
        figures = api.call("GET", f"/v1/rooms/{room}/stats/live", token=host).json()
        assert figures["cumulative_viewers"] == 2
        kinds = {(t.split("/")[2], t.split("/")[3]) for t, _ in events}
        assert {("presence", "connected"), ("subscriptions", "subscribed"), ("presence", "disconnected")} <= kinds
        subscribed_events = [p for t, p in events if p["eventType"] == "subscribed"]
        assert all(t.endswith("/" + p["clientId"]) for t, p in events)
        assert {tuple(p["topics"]) for p in subscribed_events} == {
            (topics.events_topic(stage, room),), (topics.danmaku_topic(stage, room),)}
    finally:
        for client in clients[1:]:
            client.loop_stop()
            client.disconnect()
        broker.stop()

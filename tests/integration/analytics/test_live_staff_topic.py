"""Live figures for the room's staff with real MQTT clients (paho over WebSocket) on the local
broker, authorized by the real realtime_authorizer function (the policy IoT Core enforces): the
host and an assistant of the room subscribe to its staff topic and receive the ticker's push;
a viewer asking for it, and an assistant of another host, are refused the subscription."""
from __future__ import annotations

import json
import queue
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from livecommerce.interaction import topics
from local.mqtt import LocalBroker
from local.mqtt.broker import lambda_authorizer

pytestmark = pytest.mark.integration
paho = pytest.importorskip("paho.mqtt.client")


class Client:
    def __init__(self, broker: LocalBroker, stage: str, user: str, username: str, token: str) -> None:
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: "queue.Queue[tuple[str, dict]]" = queue.Queue()
        self.subscribed: "queue.Queue[list[int]]" = queue.Queue()
        self.connected: "queue.Queue[int]" = queue.Queue()
        ws = urlsplit(broker.urls["ws"])
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=topics.new_client_id(stage, user),
                                  transport="websockets", protocol=paho.MQTTv311)
        self.client.ws_set_options(path=ws.path)
        self.client.username_pw_set(username, token)
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.put(int(getattr(rc, "value", rc)))
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.put(
            [int(getattr(r, "value", r)) for r in rcs])
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, json.loads(m.payload)))
        self.client.connect(ws.hostname, ws.port, keepalive=30)
        self.client.loop_start()
        assert self.connected.get(timeout=10) == 0

    def subscribe(self, topic: str) -> list[int]:
        self.client.subscribe(topic, qos=1)
        return self.subscribed.get(timeout=10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_host_and_assistant_receive_live_figures_a_viewer_cannot_subscribe(api, tokens_for, ivs_env, seeded,
                                                                          monkeypatch):
    from livecommerce.interaction.settings import get_interaction_settings
    from livecommerce.shared import aws
    from local.lambda_runtime import invoke

    stage = get_interaction_settings().stage
    host, assistant, viewer, stranger = (tokens_for(u) for u in ("host-1", "viewer-1", "viewer-2", "viewer-3"))
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    room = api.call("POST", "/v1/rooms", token=host, json_body={"title": "场控", "scheduled_start": start}).json()["id"]
    other = api.call("POST", "/v1/rooms", token=host, json_body={"title": "另一场", "scheduled_start": start}).json()["id"]
    granted = api.call("PUT", f"/v1/rooms/{room}/assistants/viewer-1", token=host, json_body={})
    assert granted.status in (200, 201), granted.body
    granted = api.call("PUT", f"/v1/rooms/{other}/assistants/viewer-3", token=host, json_body={})
    assert granted.status in (200, 201), granted.body
    assert api.call("POST", f"/v1/rooms/{room}/start", token=host).status == 200

    broker = LocalBroker(authorizer=lambda_authorizer())
    broker.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_IOT_DATA_PLANE", broker.urls["publish"])
    aws.reset_clients()
    staff_topic = topics.staff_topic(stage, room)
    clients = []
    try:
        as_host = Client(broker, stage, "host-1", room, host)                       # the host: no flag needed
        as_assistant = Client(broker, stage, "viewer-1", f"{room}?staff=1", assistant)
        as_viewer = Client(broker, stage, "viewer-2", f"{room}?staff=1", viewer)     # asks, is no staff
        as_stranger = Client(broker, stage, "viewer-3", f"{room}?staff=1", stranger)  # assists another room
        clients = [as_host, as_assistant, as_viewer, as_stranger]
        assert as_host.subscribe(staff_topic) == [1]
        assert as_assistant.subscribe(staff_topic) == [1]
        assert as_viewer.subscribe(staff_topic) == [0x80]                  # refused by the policy
        assert as_stranger.subscribe(staff_topic) == [0x80]
        assert as_viewer.subscribe(topics.events_topic(stage, room)) == [1]  # still a viewer of the room

        invoke("live_stats", {"room_id": room, "host_id": "host-1", "ticker_id": "t-staff"})    # one tick
        for client in (as_host, as_assistant):
            topic, message = client.messages.get(timeout=10)
            assert topic == staff_topic
            assert message["type"] == "live_stats" and message["room_id"] == room and "online" in message
        assert as_viewer.messages.empty() and as_stranger.messages.empty()
    finally:
        for client in clients:
            client.close()
        broker.stop()
        aws.reset_clients()

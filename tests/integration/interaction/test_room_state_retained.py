"""Late joiners (issue 14, outcome 7) with real MQTT clients (paho over WebSocket) on the local
broker: what is running is a RETAINED message on the room's state/<kind> topic, published through
the real iot-data client (SigV4, as on IoT Core). A client subscribing late gets it at once; the
first read without a subscription is GetRetainedMessage; an empty retained payload clears it."""
from __future__ import annotations

import json
import queue
import time
from urllib.parse import urlsplit

import pytest

from livecommerce.interaction import policy, room_state, topics
from local.mqtt import LocalBroker

pytestmark = pytest.mark.integration
paho = pytest.importorskip("paho.mqtt.client")
ROOM = "01JSTATE0000000000000RM000"   # a well-formed room id (the broadcasts consumer checks it)


def viewer_authorizer(stage: str):
    """The viewer policy our IoT authorizer builds (interaction.policy), for whoever connects."""

    def authorize(event: dict) -> dict:
        client_id = event["protocolData"]["mqtt"]["clientId"]
        document = policy.viewer_policy(partition="aws", region="ap-northeast-1", account="123456789012",
                                        stage=stage, room_id=ROOM, user_id="viewer-1", client_id=client_id)
        return {"isAuthenticated": True, "principalId": "viewer-1", "policyDocuments": [json.dumps(document)],
                "disconnectAfterInSeconds": 3600, "refreshAfterInSeconds": 300}

    return authorize


class Viewer:
    def __init__(self, broker: LocalBroker, stage: str, n: int) -> None:
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: "queue.Queue[tuple[str, bytes, bool, float]]" = queue.Queue()
        self.subscribed: "queue.Queue[list]" = queue.Queue()
        ws = urlsplit(broker.urls["ws"])
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=topics.new_client_id(stage, "viewer-1"),
                                  transport="websockets", protocol=paho.MQTTv311)
        self.client.ws_set_options(path=ws.path)
        self.client.username_pw_set(ROOM, "token")
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.put(rcs)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload, m.retain, time.monotonic()))
        self.client.connect(ws.hostname, ws.port, keepalive=30)
        self.client.loop_start()
        self.stage = stage

    def subscribe_state(self) -> float:
        at = time.monotonic()
        self.client.subscribe(topics.state_filter(self.stage, ROOM), qos=1)
        codes = self.subscribed.get(timeout=10)
        assert [int(getattr(c, "value", c)) for c in codes] == [1], codes     # granted QoS 1 by the policy
        return at

    def next(self, timeout: float = 5.0):
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def broker(monkeypatch):
    from livecommerce.interaction.settings import get_interaction_settings
    from livecommerce.shared import aws

    stage = get_interaction_settings().stage
    found = LocalBroker(authorizer=viewer_authorizer(stage))
    found.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_IOT_DATA_PLANE", found.urls["publish"])
    aws.reset_clients()
    yield found, stage
    found.stop()
    aws.reset_clients()


def test_a_late_joiner_gets_the_running_state_at_once_and_an_ended_thing_is_cleared(broker):
    broker, stage = broker
    poll = {"type": "poll_results", "poll_id": "P1", "question": "哪个颜色?", "counts": [3, 5], "total": 8}
    card = {"type": "card", "product_id": "X1", "live_price": 5900}
    assert room_state.set_state(ROOM, "poll", poll) and room_state.set_state(ROOM, "card", card)
    assert room_state.set_state(ROOM, "poll", {**poll, "counts": [4, 5], "total": 9})   # the newest one stays

    # The first read without a subscription: GetRetainedMessage through the real iot-data client.
    assert room_state.read(ROOM, "poll")["counts"] == [4, 5]
    assert room_state.read(ROOM, "lottery") is None

    late = Viewer(broker, stage, 1)
    try:
        asked = late.subscribe_state()
        got = {}
        for _ in range(2):
            topic, payload, retained, at = late.next()
            assert retained and at - asked < 1.0, (topic, at - asked)      # within a second of subscribing
            got[topic.rsplit("/", 1)[1]] = json.loads(payload)
        assert got["poll"]["counts"] == [4, 5] and got["poll"]["kind"] == "poll"
        assert got["card"]["product_id"] == "X1"

        # The poll ends: an empty retained payload reaches the subscriber and clears the topic.
        assert room_state.clear_state(ROOM, "poll")
        topic, payload, _, _ = late.next()
        assert topic == topics.state_topic(stage, ROOM, "poll") and payload == b""
        assert room_state.read(ROOM, "poll") is None
    finally:
        late.close()

    later = Viewer(broker, stage, 2)
    try:
        later.subscribe_state()
        topic, payload, retained, _ = later.next()
        assert topic.endswith("/state/card") and retained
        # Nothing of the ended poll (QoS 1 is at least once: a repeated card is allowed).
        seen = set()
        deadline = time.monotonic() + 0.5
        while (left := deadline - time.monotonic()) > 0:
            try:
                seen.add(later.next(timeout=left)[0].rsplit("/", 1)[1])
            except queue.Empty:
                break
        assert seen <= {"card"}, seen
    finally:
        later.close()

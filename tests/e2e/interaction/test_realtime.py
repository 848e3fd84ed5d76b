"""The room channel end to end with real MQTT clients (paho-mqtt over
WebSocket) on the local broker (local.mqtt.LocalBroker, standing in for IoT
Core: same authorizer function, same policies, same iot-data publish path),
while viewers send danmaku and likes over the HTTP API and the host lists a
product. In-process: the API through the gateway emulation on moto, the
DynamoDB stream pump and the EventBridge delivery as in the local stack."""
from __future__ import annotations

import json
import queue
import threading
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e
paho = pytest.importorskip("paho.mqtt.client")


class Viewer:
    def __init__(self, url: str, client_id: str, username: str, password: str | None) -> None:
        from paho.mqtt.enums import CallbackAPIVersion

        parts = urlsplit(url)
        self.messages: "queue.Queue[tuple[str, dict]]" = queue.Queue()
        self.unmatched: list[tuple[str, dict]] = []
        self.connected = threading.Event()
        self.reason: object = None
        self.granted: dict[int, list] = {}
        self._subscribed = threading.Condition()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, transport="websockets",
                                  protocol=paho.MQTTv311)
        self.client.ws_set_options(path=parts.path or "/mqtt")
        self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        # An empty payload is a retained state's clear (interaction.room_state).
        self.client.on_message = lambda c, u, msg: self.messages.put(
            (msg.topic, {"type": None, **(json.loads(msg.payload) if msg.payload else {})}))
        self.client.connect(parts.hostname, parts.port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.reason = reason_code
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        with self._subscribed:
            self.granted[mid] = [int(getattr(rc, "value", rc)) for rc in reason_codes]
            self._subscribed.notify_all()

    def wait_connected(self) -> bool:
        assert self.connected.wait(15), "no CONNACK"
        return not self.reason.is_failure

    def subscribe(self, topics: list[tuple[str, int]]) -> list[int]:
        _, mid = self.client.subscribe(topics)
        with self._subscribed:
            assert self._subscribed.wait_for(lambda: mid in self.granted, 15), "no SUBACK"
            return self.granted[mid]

    def wait_for(self, predicate, timeout: float = 20.0) -> tuple[str, dict]:
        """The first message (in arrival order) matching `predicate`; messages that did
        not match stay for later waits, as a client handles every topic independently
        (a room batch may arrive before the sender's own echo)."""
        for n, (topic, message) in enumerate(self.unmatched):
            if predicate(topic, message):
                del self.unmatched[n]
                return topic, message
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                topic, message = self.messages.get(timeout=0.1)
            except queue.Empty:
                continue
            if predicate(topic, message):
                return topic, message
            self.unmatched.append((topic, message))
        raise AssertionError("expected message did not arrive")

    def drain(self, seconds: float = 0.5) -> list[tuple[str, dict]]:
        time.sleep(seconds)
        found, self.unmatched = self.unmatched, []
        while not self.messages.empty():
            found.append(self.messages.get_nowait())
        return found

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def channel(api, tokens_for, ivs_env, monkeypatch):
    """The local broker and stream pump wired as the local stack wires them."""
    from livecommerce.interaction.settings import reset_interaction_settings
    from livecommerce.interaction.spec import INTERACTION
    from livecommerce.shared import aws
    from local.event_delivery import drain
    from local.mqtt import LocalBroker, StreamPump
    from local.resources import LocalNames

    broker = LocalBroker()
    urls = broker.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_IOT_DATA_PLANE", urls["publish"])
    monkeypatch.setenv("REALTIME_ENDPOINT", urls["ws"])
    reset_interaction_settings()
    aws.reset_clients()
    pump = StreamPump(ivs_env, {"Interaction": INTERACTION.physical_name(LocalNames().prefix)})
    pump.start()
    stop = threading.Event()

    def deliver():
        while not stop.is_set():
            if drain(ivs_env, LocalNames()) == 0:
                stop.wait(0.1)

    events = threading.Thread(target=deliver, daemon=True)
    events.start()
    viewers: list[Viewer] = []

    def connect(token: str, room_id: str, *, password: str | None = "same") -> tuple[Viewer, dict]:
        body = api.call("GET", f"/v1/rooms/{room_id}/realtime", token=token).json()
        secret = body["credentials"]["password"] if password == "same" else password
        viewer = Viewer(body["endpoint"], body["client_id"], body["credentials"]["username"], secret)
        viewers.append(viewer)
        return viewer, body

    yield broker, connect
    for viewer in viewers:
        viewer.close()
    stop.set()
    events.join(5)
    pump.stop()
    broker.stop()
    reset_interaction_settings()
    aws.reset_clients()


def _room(api, token) -> str:
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    room = api.call("POST", "/v1/rooms", token=token, json_body={"title": "直播", "scheduled_start": start}).json()
    assert api.call("POST", f"/v1/rooms/{room['id']}/start", token=token).status == 200
    return room["id"]


def test_viewers_get_danmaku_likes_and_product_cards_over_mqtt(api, tokens_for, channel):
    broker, connect = channel
    room = _room(api, tokens_for("host-1"))
    alice, creds = connect(tokens_for("viewer-1"), room)
    bob, _ = connect(tokens_for("viewer-2"), room)
    assert alice.wait_connected() and bob.wait_connected()
    for viewer, name in ((alice, "viewer-1"), (bob, "viewer-2")):
        topics = [(f"lc/local/rooms/{room}/danmaku", 0), (f"lc/local/rooms/{room}/events", 1),
                  (f"lc/local/rooms/{room}/users/{name}", 1)]
        assert viewer.subscribe(topics) == [0, 1, 1]
    assert bob.subscribe([(f"lc/local/rooms/{room}/state/+", 1)]) == [1]     # the retained like total

    sent = api.call("POST", f"/v1/rooms/{room}/danmaku", token=tokens_for("viewer-1"),
                    json_body={"text": "主播好 👋"}).json()
    _, ack = alice.wait_for(lambda t, m: t.endswith("/users/viewer-1") and m["type"] == "danmaku_ack")
    assert ack["item"]["id"] == sent["id"]
    _, batch = bob.wait_for(lambda t, m: m["type"] == "danmaku")
    assert [i["text"] for i in batch["items"]] == ["主播好 👋"]
    alice.wait_for(lambda t, m: m["type"] == "danmaku")

    host = tokens_for("host-1")
    reply = api.call("POST", f"/v1/rooms/{room}/danmaku", token=host,
                     json_body={"text": "欢迎！", "reply_to": sent["id"]}).json()
    _, notice = alice.wait_for(lambda t, m: m["type"] == "host_reply")
    assert notice["item"]["id"] == reply["id"]
    _, batch = bob.wait_for(lambda t, m: m["type"] == "danmaku")
    assert batch["items"][0]["host"] is True and batch["items"][0]["reply_to"]["id"] == sent["id"]

    for token in (tokens_for("viewer-1"), tokens_for("viewer-2")):
        assert api.call("POST", f"/v1/rooms/{room}/likes", token=token, json_body={"count": 5}).status == 202
    # The like total: inside a danmaku batch, or a like message (state/likes) when no batch went out for 2 s.
    bob.wait_for(lambda t, m: (m.get("type") == "likes" and m.get("total") == 10)
                 or (m.get("type") == "danmaku" and m.get("likes_total") == 10))

    from livecommerce.catalog.events import ProductListed
    from livecommerce.shared import events

    events.publish_event(ProductListed(room_id=room, product_id="P1", name="羊绒围巾", live_price=19900,
                                       stock_left=30))     # as catalog sends it
    _, listed = alice.wait_for(lambda t, m: m["type"] == "product_listed")
    assert listed["data"]["product_id"] == "P1" and listed["data"]["name"] == "羊绒围巾"
    assert listed["data"]["stock_left"] == 30
    assert api.call("POST", f"/v1/rooms/{room}/end", token=host).status == 200
    bob.wait_for(lambda t, m: m["type"] == "room_ended")
    assert broker.stats["connects_allowed"] == 2


def test_viewers_see_a_flash_sale_count_down_open_and_close_at_its_seconds(api, tokens_for, channel, monkeypatch):
    """A scheduled flash sale over MQTT: announced, final countdown, open, closed, each when
    its moment comes (commerce timers through the Lambda Invoke API; no minute tick runs here)."""
    from tests.integration.commerce_fixtures import Shop, future, parse_time

    monkeypatch.setenv("FLASH_COUNTDOWN_SECONDS", "2")
    _, connect = channel
    shop = Shop(api, tokens_for)
    room = _room(api, tokens_for("host-1"))
    viewer, _ = connect(tokens_for("viewer-1"), room)
    assert viewer.wait_connected()
    assert viewer.subscribe([(f"lc/local/rooms/{room}/events", 1)]) == [1]
    sale = shop.flash_sale(room, shop.product(stock=5), stock=2, duration=10, starts_at=future(5))
    starts, ends = parse_time(sale["starts_at"]), parse_time(sale["ends_at"])
    moments = {"flash_sale_countdown": starts - timedelta(seconds=2), "flash_sale_started": starts,
               "flash_sale_ended": ends}
    for kind in ("flash_sale_scheduled", "flash_sale_countdown", "flash_sale_started", "flash_sale_ended"):
        _, message = viewer.wait_for(lambda t, m, kind=kind: m["type"] == kind
                                     and m["data"].get("flash_sale_id") == sale["id"], timeout=40)
        if kind in moments:
            assert datetime.fromisoformat(message["at"]) >= moments[kind], kind     # never early
        if kind == "flash_sale_countdown":
            assert message["data"]["seconds_to_start"] == 2
        if kind == "flash_sale_ended":
            assert message["data"]["stock_left"] == 2


def test_the_broker_enforces_the_authorizer_policy(api, tokens_for, channel):
    broker, connect = channel
    room = _room(api, tokens_for("host-1"))
    other = _room(api, tokens_for("host-2"))
    intruder, _ = connect(tokens_for("viewer-1"), room, password="forged.token.value")
    assert intruder.wait_connected() is False
    anonymous, _ = connect(tokens_for("viewer-1"), room, password=None)
    assert anonymous.wait_connected() is False

    alice, _ = connect(tokens_for("viewer-1"), room)
    bob, _ = connect(tokens_for("viewer-2"), room)
    assert alice.wait_connected() and bob.wait_connected()
    assert bob.subscribe([(f"lc/local/rooms/{room}/danmaku", 0)]) == [0]
    refused = alice.subscribe([(f"lc/local/rooms/{room}/users/viewer-2", 0), (f"lc/local/rooms/{room}/users/+", 0),
                               (f"lc/local/rooms/{other}/danmaku", 0), ("#", 0), (f"lc/local/rooms/{room}/#", 0)])
    assert refused == [128, 128, 128, 128, 128]
    # Publishing to a broadcast topic is refused: nothing reaches the room.
    refused_before = broker.stats["refused_publish"]
    alice.client.publish(f"lc/local/rooms/{room}/danmaku",
                         json.dumps({"type": "danmaku", "items": [{"text": "fake"}]}), qos=1)
    deadline = time.monotonic() + 10
    while broker.stats["refused_publish"] <= refused_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broker.stats["refused_publish"] > refused_before      # the broker saw it and refused it
    assert [m for _, m in bob.drain(0.8) if "fake" in json.dumps(m)] == []

    # A banned viewer cannot come back.
    host = tokens_for("host-1")
    assert api.call("PUT", f"/v1/rooms/{room}/bans/viewer-2", token=host, json_body={}).status == 200
    assert api.call("GET", f"/v1/rooms/{room}/realtime", token=tokens_for("viewer-2")).status == 403
    from livecommerce.interaction import topics
    from local.mqtt.broker import authorizer_event, lambda_authorizer

    again = lambda_authorizer()(authorizer_event(room, tokens_for("viewer-2"),
                                                 topics.new_client_id("local", "viewer-2")))
    assert again == {"isAuthenticated": False}

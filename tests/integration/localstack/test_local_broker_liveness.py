"""How the local IoT Core stand-in keeps connections alive and says who left (local/mqtt).

- Liveness is MQTT's, as on IoT Core: no WebSocket-level pings from the broker (websockets'
  default server ping every 20 s made paho-mqtt, whose pong is unmasked, be closed 20 s after it
  connected: the analytics e2e saw online 2 drop to 0), while a client silent for 1.5 x its
  keepalive is closed and reported `disconnected` (MQTT_KEEP_ALIVE_TIMEOUT), as IoT Core does.
- Lifecycle events carry one `sessionIdentifier` per connection (connected, subscribed,
  disconnected alike) and the client id; a second connection with the same client id takes the
  first one over (DUPLICATE_CLIENTID), and the first one's `disconnected` names its own session,
  not the new one's; a DISCONNECT packet is client-initiated, a lost connection is not.
Real paho clients over WebSocket, the broker in this process."""
from __future__ import annotations

import json
import queue
import socket
import threading
from urllib.parse import urlsplit

import pytest

from local.mqtt import LocalBroker
from tests.polling import poll

pytestmark = pytest.mark.integration
paho = pytest.importorskip("paho.mqtt.client")
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["iot:Connect", "iot:Subscribe", "iot:Receive"], "Resource": "*"}]})
TOPIC = "lc/local/rooms/R1/events"


def allow_all(event: dict) -> dict:
    return {"isAuthenticated": True, "principalId": "tester", "policyDocuments": [ALLOW_ALL],
            "disconnectAfterInSeconds": 3600, "refreshAfterInSeconds": 300}


def _client(broker: LocalBroker, client_id: str, *, keepalive: int = 30):
    from paho.mqtt.enums import CallbackAPIVersion

    subscribed: "queue.Queue[list]" = queue.Queue()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, transport="websockets",
                         protocol=paho.MQTTv311, reconnect_on_failure=False)
    ws = urlsplit(broker.urls["ws"])
    client.ws_set_options(path=ws.path)
    client.username_pw_set("R1", "token")
    client.on_subscribe = lambda c, u, mid, rcs, p: subscribed.put(rcs)
    client.connect(ws.hostname, ws.port, keepalive=keepalive)
    client.loop_start()
    client.subscribe(TOPIC, qos=0)
    subscribed.get(timeout=10)
    return client


def test_liveness_is_mqtt_keepalive_and_lifecycle_events_name_their_session():
    events: list[dict] = []
    lock = threading.Lock()

    def sink(topic: str, payload: dict) -> None:
        assert topic.endswith("/" + payload["clientId"]) and topic.split("/")[3] == payload["eventType"]
        with lock:
            events.append(payload)

    def of(client_id: str, kind: str) -> list[dict]:
        with lock:
            return [e for e in events if e["clientId"] == client_id and e["eventType"] == kind]

    broker = LocalBroker(authorizer=allow_all, lifecycle=sink)
    broker.start()
    clients = []
    try:
        first = _client(broker, "lc-local-viewer-aaaaaaaaaaaa")
        clients.append(first)
        # no WebSocket pings from the broker on any connection (MQTT's keepalive is the liveness)
        server = broker._broker._servers["default"].instance
        assert server.connections and all(c.ping_interval is None and c.keepalive_task is None
                                          for c in server.connections)
        assert poll(lambda: of("lc-local-viewer-aaaaaaaaaaaa", "subscribed"), timeout=10)
        session_1 = of("lc-local-viewer-aaaaaaaaaaaa", "connected")[0]["sessionIdentifier"]
        assert of("lc-local-viewer-aaaaaaaaaaaa", "subscribed")[0]["sessionIdentifier"] == session_1

        # the same client id again: it takes the first connection over (IoT Core does the same)
        second = _client(broker, "lc-local-viewer-aaaaaaaaaaaa")
        clients.append(second)
        assert poll(lambda: of("lc-local-viewer-aaaaaaaaaaaa", "disconnected"), timeout=10)
        assert poll(lambda: len(of("lc-local-viewer-aaaaaaaaaaaa", "subscribed")) == 2, timeout=10)
        gone = of("lc-local-viewer-aaaaaaaaaaaa", "disconnected")
        assert [(e["sessionIdentifier"], e["disconnectReason"], e["clientInitiatedDisconnect"]) for e in gone] == [
            (session_1, "DUPLICATE_CLIENTID", False)]
        session_2 = of("lc-local-viewer-aaaaaaaaaaaa", "connected")[1]["sessionIdentifier"]
        assert session_2 != session_1
        assert of("lc-local-viewer-aaaaaaaaaaaa", "subscribed")[1]["sessionIdentifier"] == session_2
        second.disconnect()
        assert poll(lambda: len(of("lc-local-viewer-aaaaaaaaaaaa", "disconnected")) == 2, timeout=10)
        last = of("lc-local-viewer-aaaaaaaaaaaa", "disconnected")[1]
        assert (last["sessionIdentifier"], last["disconnectReason"], last["clientInitiatedDisconnect"]) == (
            session_2, "CLIENT_INITIATED_DISCONNECT", True)

        # a client silent past 1.5 x its keepalive (1 s) is closed and reported: liveness is not lost
        silent = socket.create_connection((urlsplit(broker.urls["ws"]).hostname, broker.ws_port), timeout=10)
        clients.append(silent)
        _mqtt_connect_over_websocket(silent, urlsplit(broker.urls["ws"]).path, "lc-local-silent-bbbbbbbbbbbb",
                                     keepalive=1)
        assert poll(lambda: of("lc-local-silent-bbbbbbbbbbbb", "connected"), timeout=10)
        assert poll(lambda: of("lc-local-silent-bbbbbbbbbbbb", "disconnected"), timeout=10)
        assert of("lc-local-silent-bbbbbbbbbbbb", "disconnected")[0]["disconnectReason"] == "MQTT_KEEP_ALIVE_TIMEOUT"
    finally:
        for client in clients:
            if isinstance(client, socket.socket):
                client.close()
            else:
                client.loop_stop()
        broker.stop()


def _mqtt_connect_over_websocket(sock: socket.socket, path: str, client_id: str, *, keepalive: int) -> None:
    """A WebSocket handshake and one MQTT 3.1.1 CONNECT, then nothing (no PINGREQ ever)."""
    import base64
    import os
    import struct

    key = base64.b64encode(os.urandom(16)).decode()
    host, port = sock.getpeername()[:2]
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n")
                 .encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101"), answer

    def text(value: str) -> bytes:
        return struct.pack("!H", len(value.encode())) + value.encode()
    body = text("MQTT") + bytes([4, 0b11000010]) + struct.pack("!H", keepalive) + text(client_id) \
        + text("R1") + text("token")
    packet = bytes([0x10, len(body)]) + body
    mask = os.urandom(4)
    sock.sendall(bytes([0x82, 0x80 | len(packet)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(packet)))

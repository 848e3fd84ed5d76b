"""LocalBroker: amqtt with a WebSocket listener standing in for IoT Core.

Connect: the CONNECT packet's username, password and client id are put in an
IoT Core custom-authorizer event and given to the authorizer function (by
default the real `functions/realtime_authorizer` handler through the local
Lambda runtime). `isAuthenticated: false` refuses the connection (CONNACK
"not authorized"); otherwise the returned policy documents are kept on the
session and every SUBSCRIBE (iot:Subscribe on topicfilter/<filter>), PUBLISH
(iot:Publish on topic/<topic>) and delivery (iot:Receive on topic/<topic>)
is checked against them with livecommerce.interaction.policy.allows, the
evaluation IoT Core does with the same documents. Differences from IoT Core,
kept small on purpose: a refused PUBLISH is dropped (IoT Core also closes the
connection), a refused SUBSCRIBE gets return code 0x80 (as IoT Core does), no
TLS on loopback, no disconnect at `disconnectAfterInSeconds`.

Server-side publishes: `POST /topics/{topic}?qos=&retain=` on the publish
port, the REST API of the IoT data plane's Publish, so boto3's `iot-data`
client (AWS_ENDPOINT_URL_IOT_DATA_PLANE) publishes here unchanged. As on AWS, a
Publish must be SigV4-signed (signing name `iotdata`, botocore's for iot-data) with
the credentials the broker is given (by default the AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY it starts with, which the local stack sets to local/local);
anything else is a 403 ForbiddenException `{"message": ...}` (local.sigv4), so no
one else on the machine can publish a forged `flash_sale_started`.
`GET /__standin/health` answers the counters and `fanout_ms`: for the latest
server-side publishes, the time from the request coming in to the last QoS 0
subscriber's bytes being handed to its socket (benchmarks/broker_fanout.py).
"""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import math
import os
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from livecommerce.interaction import policy
from local import sigv4
from local.loopback import LoopbackServer, Reply, Request, Router, die_with_parent

log = logging.getLogger("local.mqtt")
Authorizer = Callable[[dict[str, Any]], dict[str, Any]]
MAX_TOPIC_BYTES = 256
SIGNING_NAME = "iotdata"  # botocore/data/iot-data/*/service-2.json: metadata.signingName
_registry: dict[str, "LocalBroker"] = {}
_ids = itertools.count(1)


def lambda_authorizer(function: str = "realtime_authorizer") -> Authorizer:
    """The authorizer function run the way the Lambda service runs it."""
    def call(event: dict[str, Any]) -> dict[str, Any]:
        from local.lambda_runtime import invoke

        return invoke(function, event, kind="api")   # a client waits for its CONNACK

    return call


def remote_authorizer(url: str) -> Authorizer:
    """An authorizer served by another process (LocalBroker(separate_process=True))."""
    def call(event: dict[str, Any]) -> dict[str, Any]:
        import urllib.request

        request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    return call


def authorizer_event(username: str | None, password: str | bytes | None, client_id: str | None) -> dict[str, Any]:
    """What IoT Core sends the authorizer for an MQTT CONNECT (password base64-encoded)."""
    raw = password.encode("utf-8") if isinstance(password, str) else (password or b"")
    mqtt: dict[str, Any] = {"username": username or "", "clientId": client_id or ""}
    if raw:
        mqtt["password"] = base64.b64encode(raw).decode("ascii")
    return {"token": None, "signatureVerified": False, "protocols": ["mqtt"],
            "protocolData": {"mqtt": mqtt}, "connectionMetadata": {"id": str(uuid.uuid4())}}


class IotAuthPlugin(BaseAuthPlugin):
    """Authenticates a CONNECT with the custom authorizer; keeps its policies on the session."""

    @dataclass
    class Config:
        owner: str = ""

    async def authenticate(self, *, session: Any) -> bool | None:
        broker = _registry.get(self.config.owner)
        if broker is None:
            return False
        event = authorizer_event(session.username, session.password, session.client_id)
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(broker.executor, broker.authorizer, event)
        except Exception:  # noqa: BLE001 - an authorizer failure refuses, as on IoT Core
            log.exception("realtime authorizer failed")
            result = {"isAuthenticated": False}
        allowed = bool(result.get("isAuthenticated"))
        documents = list(result.get("policyDocuments") or []) if allowed else []
        documents = [json.loads(d) if isinstance(d, str) else d for d in documents]
        if allowed and not policy.allows(documents, policy.CONNECT, policy.resource("client", session.client_id or "")):
            allowed = False
        session.iot_policies = documents if allowed else []
        session.iot_cache = {}
        broker.stats["connects_allowed" if allowed else "connects_refused"] += 1
        return allowed


class IotPolicyPlugin(BaseTopicPlugin):
    """iot:Subscribe / iot:Publish / iot:Receive checks against the session's policies."""

    @dataclass
    class Config:
        owner: str = ""

    async def topic_filtering(self, *, session: Any = None, topic: str | None = None,
                              action: Action | None = None) -> bool | None:
        if session is None or topic is None:
            return False
        cache = getattr(session, "iot_cache", None)
        if cache is None:
            return False
        if action == Action.RECEIVE:
            return receive_allowed(session, topic)
        key = (action, topic)
        found = cache.get(key)
        if found is None:
            if action == Action.SUBSCRIBE:
                found = policy.allows(session.iot_policies, policy.SUBSCRIBE, policy.resource("topicfilter", topic))
            elif action == Action.PUBLISH:
                found = policy.allows(session.iot_policies, policy.PUBLISH, policy.resource("topic", topic))
            else:
                found = False
            if len(cache) < 256:
                cache[key] = found
        if not found:
            broker = _registry.get(self.config.owner)
            if broker is not None:
                broker.stats[f"refused_{getattr(action, 'value', action)}"] += 1
        return found


def receive_allowed(session: Any, topic: str) -> bool:
    """iot:Receive for a session, cached (the same check IotPolicyPlugin makes)."""
    cache = getattr(session, "iot_cache", None)
    if cache is None:
        return False
    key = (Action.RECEIVE, topic)
    found = cache.get(key)
    if found is None:
        found = policy.allows(session.iot_policies, policy.RECEIVE, policy.resource("topic", topic))
        if len(cache) < 256:
            cache[key] = found
    return found


def _publish_packet(topic: str, payload: bytes) -> bytes:
    """An MQTT 3.1.1 PUBLISH, QoS 0, encoded once for every subscriber."""
    name = topic.encode("utf-8")
    body = len(name).to_bytes(2, "big") + name + payload
    length, header = len(body), bytearray([0x30])
    while True:
        byte, length = length % 128, length // 128
        header.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(header) + body


def _binary_frame(payload: bytes) -> bytes:
    """A final, unmasked WebSocket binary frame (RFC 6455 5.2): what a server sends.

    Server frames carry no mask, so without an extension the bytes on the wire are
    the same for every connection and can be built once per broadcast."""
    length = len(payload)
    if length < 126:
        header = bytes([0x82, length])
    elif length < 65536:
        header = bytes([0x82, 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([0x82, 127]) + length.to_bytes(8, "big")
    return header + payload


class _Sessions(dict):
    """amqtt's client id -> (session, handler) map, reporting every change.

    A connection that comes, goes or is taken over changes this map, and so
    makes the broker forget the subscriber lists it has worked out."""

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._changed()

    def pop(self, *args: Any) -> Any:
        try:
            return super().pop(*args)
        finally:
            self._changed()

    def popitem(self) -> Any:
        try:
            return super().popitem()
        finally:
            self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        try:
            return super().setdefault(key, default)
        finally:
            self._changed()

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()


def _broker_class() -> type:
    """amqtt's Broker with a fan-out fast path for QoS 0.

    amqtt builds, encodes and sends a PUBLISH per subscriber in a task of its own
    and runs the topic plugins per subscriber asynchronously; for a room of a
    thousand viewers that is the broker's whole budget. Here a QoS 0 broadcast is
    encoded (MQTT packet and WebSocket frame) once and the same bytes are written
    to the socket of each subscriber allowed to receive it (iot:Receive). Who
    those subscribers are is worked out once per topic and kept until a
    subscription or a connection changes: between two publishes the broker's
    objects drop out of the CPU caches, and visiting a thousand sessions,
    handlers and connections again would cost more than the writes themselves.
    QoS 1 and 2 deliveries take amqtt's own path."""
    from functools import partial

    import websockets
    import websockets.asyncio.server
    from amqtt.broker import Broker
    from amqtt.contexts import ListenerType
    from amqtt.mqtt.disconnect import DisconnectPacket
    from websockets.protocol import State

    open_ = State.OPEN

    class FanOutBroker(Broker):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # (topic, forced qos) -> (direct, other): [(protocol, transport)] of the subscribers
            # the shared frame can go to, [(session, handler, qos, connection)] of the rest
            # (connection: QoS 0 framed by websockets; None: a QoS 1/2 delivery by amqtt).
            self._plans: dict[tuple[str, int | None], tuple[list, list]] = {}
            self._wildcard_filters: list[str] | None = None
            self._sessions = _Sessions(self._plans.clear)

        def _subscriptions_changed(self) -> None:
            self._plans.clear()
            self._wildcard_filters = None

        async def add_subscription(self, subscription, session):  # noqa: ANN001, ANN201
            try:
                return await super().add_subscription(subscription, session)
            finally:
                self._subscriptions_changed()

        def _del_subscription(self, a_filter: str, session: Any) -> int:
            try:
                return super()._del_subscription(a_filter, session)
            finally:
                self._subscriptions_changed()

        def _matching(self, topic: str) -> list[list]:
            """The subscription lists whose filter matches `topic`.

            A room has a private topic per viewer, so thousands of filters, nearly all
            without wildcards: those are one dict lookup, and only the filters with
            wildcards are matched one by one."""
            subscriptions = self._subscriptions
            if self._wildcard_filters is None:
                self._wildcard_filters = [f for f in subscriptions if "+" in f or "#" in f]
            found = [subscriptions[f] for f in self._wildcard_filters
                     if f in subscriptions and self._matches(topic, f)]
            exact = subscriptions.get(topic)
            if exact is not None:
                found.append(exact)
            return found

        async def _run_broadcast(self, running_tasks):  # noqa: ANN001
            broadcast = await self._broadcast_queue.get()
            self.fan_out(broadcast["topic"], broadcast["data"], broadcast.get("qos"), running_tasks)

        def fan_out(self, topic: str, data: bytes | bytearray, force_qos: int | None, running_tasks: deque) -> None:
            """Deliver one broadcast to every subscriber of `topic`.

            Synchronous on purpose: nothing can change the subscribers underneath, and
            every QoS 0 delivery has been handed to its socket when it returns."""
            direct, other = self._plan(topic, force_qos)
            packet = _publish_packet(topic, bytes(data)) if direct or other else b""
            if direct:
                frame = _binary_frame(packet)
                for protocol, transport in direct:
                    # Not once the closing handshake has begun (no data frames after a
                    # Close). websockets writes each of its own frames out whole and at
                    # once, so these bytes never land inside one of them.
                    if protocol.state is open_:
                        try:
                            transport.write(frame)
                        except Exception:  # noqa: BLE001 - a connection going away
                            pass
            for session, handler, qos, connection in other:
                if session.transitions.state != "connected" or self._get_handler(session) is not handler:
                    continue
                if connection is not None:
                    # permessage-deflate keeps per-connection state: websockets frames it.
                    if connection.protocol.state is open_:
                        try:
                            connection.protocol.send_binary(packet)
                            connection.send_data()
                        except Exception:  # noqa: BLE001 - a connection going away
                            pass
                    continue
                running_tasks.append(asyncio.ensure_future(handler.mqtt_publish(topic, data, qos, retain=False)))

        def _plan(self, topic: str, force_qos: int | None) -> tuple[list, list]:
            plan = self._plans.get((topic, force_qos))
            if plan is not None:
                return plan
            direct: list[tuple[Any, Any]] = []
            other: list[tuple[Any, Any, int, Any]] = []
            for subscriptions in self._matching(topic):
                for session, sub_qos in subscriptions:
                    qos = min(force_qos if force_qos is not None else sub_qos, sub_qos)
                    # A session that connects later changes self._sessions, and so the plan.
                    if session.transitions.state != "connected" or not receive_allowed(session, topic):
                        continue
                    handler = self._get_handler(session)
                    if handler is None:
                        continue
                    # amqtt's WebSocketsWriter keeps the websockets ServerConnection here.
                    connection = getattr(getattr(handler, "writer", None), "_protocol", None)
                    protocol = getattr(connection, "protocol", None)
                    if qos == 0 and protocol is not None:
                        if protocol.extensions or protocol.expect_continuation_frame:
                            other.append((session, handler, qos, connection))
                        else:
                            direct.append((protocol, connection.transport))
                    else:
                        other.append((session, handler, qos, None))
            if len(self._plans) >= 1024:  # one per private topic published to: keep it bounded
                self._plans.clear()
            plan = self._plans[(topic, force_qos)] = (direct, other)
            return plan

        async def _create_server_instance(self, listener_name, listener_type, address, port, ssl_context):  # noqa: ANN001, ANN202
            """amqtt's WebSocket listener, without WebSocket-level pings.

            IoT Core keeps a connection alive by MQTT: the client's PINGREQ within the keepalive it
            chose in CONNECT, the connection closed at 1.5 x that (amqtt enforces the same here).
            websockets' default server ping every 20 s is no part of it, and it broke real clients:
            paho-mqtt (2.2.0) answers a WebSocket ping with an unmasked pong, a protocol error a
            server must close on (RFC 6455 5.1), so every paho viewer was dropped about 20 s after
            it connected (its `disconnected` lifecycle event took it out of the online figure)."""
            if listener_type != ListenerType.WS:
                return await super()._create_server_instance(listener_name, listener_type, address, port,
                                                             ssl_context)
            return await websockets.asyncio.server.serve(
                partial(self.ws_connected, listener_name=listener_name), address, port, ssl=ssl_context,
                subprotocols=[websockets.Subprotocol("mqtt")], ping_interval=None)

        async def _initialize_client_session(self, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            """IoT Core's keepalive: a connection that sends nothing for 1.5 x the keepalive its
            CONNECT asked for is closed (`disconnected`, MQTT_KEEP_ALIVE_TIMEOUT). amqtt reads with
            that timeout but only logs it; with no WebSocket pings, this is what finds dead peers."""
            handler, session = await super()._initialize_client_session(*args, **kwargs)
            session.iot_disconnect_reason = None
            if session.keep_alive > 0:
                session.keep_alive = math.ceil(session.keep_alive * 1.5)

                def timed_out(handler: Any = handler, session: Any = session) -> None:
                    session.iot_disconnect_reason = session.iot_disconnect_reason or "MQTT_KEEP_ALIVE_TIMEOUT"
                    # a silent peer answers no closing handshake either: drop the connection now
                    transport = getattr(getattr(handler.writer, "_protocol", None), "transport", None)
                    if transport is not None:
                        transport.abort()
                    asyncio.ensure_future(handler.handle_connection_closed())
                handler.handle_read_timeout = timed_out
            return handler, session

        async def _delete_session(self, client_id: str) -> None:
            """A clean-session CONNECT with a client id in use: as IoT Core, the older connection is
            closed (its `disconnected` lifecycle event says DUPLICATE_CLIENTID), not left open beside
            the new one, whose late keepalive timeout would then report the client gone."""
            old = self._sessions.get(client_id)
            if old is not None and old[1] is not None and old[0].transitions.is_connected():
                old[0].iot_disconnect_reason = "DUPLICATE_CLIENTID"
                await old[1].handle_connection_closed()
            await super()._delete_session(client_id)

        async def _handle_disconnect(self, client_session, handler, disconnect_waiter):  # noqa: ANN001, ANN202
            # why the connection ended, for its `disconnected` lifecycle event (local/mqtt/lifecycle.py)
            if not getattr(client_session, "iot_disconnect_reason", None):
                result = disconnect_waiter.result() if disconnect_waiter.done() else None
                client_session.iot_disconnect_reason = (
                    "CLIENT_INITIATED_DISCONNECT" if isinstance(result, DisconnectPacket) else "CONNECTION_LOST")
            return await super()._handle_disconnect(client_session, handler, disconnect_waiter)

        def reap(self) -> None:
            """Drop finished delivery tasks (amqtt's broadcast loop does so only when it runs)."""
            tasks = self._tasks_queue
            while tasks and tasks[0].done():
                task = tasks.popleft()
                if not task.cancelled() and task.exception() is not None:
                    log.warning("delivery failed: %r", task.exception())

    return FanOutBroker


def _valid_publish_topic(topic: str) -> bool:
    return bool(topic) and len(topic.encode("utf-8")) <= MAX_TOPIC_BYTES and not topic.startswith("$") \
        and "+" not in topic and "#" not in topic


class _Stats(dict):
    def __missing__(self, key: str) -> int:
        return 0


def _iot_reply(status: int, body: dict[str, Any], error: str | None = None) -> Reply:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error:
        headers["x-amzn-ErrorType"] = error
    return Reply.json(body, status, headers, separators=None)


def _publish_api(broker: "LocalBroker") -> Router:
    """The iot-data Publish REST API: POST /topics/{topic}?qos=0|1&retain=true|false, and the health check."""

    def publish(request: Request, quoted_topic: str) -> Reply:
        try:
            sigv4.verify(request.method, request.target, request.headers, request.body, service=SIGNING_NAME,
                         credentials=broker.credentials, region=broker.region)
        except sigv4.SignatureRejected as refused:
            broker.stats["refused_unsigned_publish"] += 1
            log.warning("iot-data publish refused: %s", refused.message)
            return _iot_reply(403, {"message": refused.message}, "ForbiddenException")
        topic = unquote(quoted_topic)
        query = parse_qs(request.target.partition("?")[2])
        try:
            qos = int((query.get("qos") or ["0"])[0])
        except ValueError:
            qos = -1
        retain = (query.get("retain") or ["false"])[0].lower() == "true"
        if not _valid_publish_topic(topic) or qos not in (0, 1):
            return _iot_reply(400, {"message": "invalid topic or qos"}, "InvalidRequestException")
        try:
            broker.publish(topic, request.body, qos=qos, retain=retain, received=request.received)
        except Exception:  # noqa: BLE001
            log.exception("local publish failed")
            return _iot_reply(500, {"message": "internal failure"}, "InternalFailureException")
        return _iot_reply(200, {})

    def get_retained(request: Request, quoted_topic: str) -> Reply:
        """iot-data GetRetainedMessage: GET /retainedMessage/{topic} (SigV4 as Publish), the payload
        base64 in JSON as IoT Core answers; 404 ResourceNotFoundException when nothing is retained."""
        try:
            sigv4.verify(request.method, request.target, request.headers, request.body, service=SIGNING_NAME,
                         credentials=broker.credentials, region=broker.region)
        except sigv4.SignatureRejected as refused:
            broker.stats["refused_unsigned_publish"] += 1
            return _iot_reply(403, {"message": refused.message}, "ForbiddenException")
        topic = unquote(quoted_topic.partition("?")[0])
        found = broker.retained(topic)
        if found is None:
            return _iot_reply(404, {"message": "No retained message on that topic"}, "ResourceNotFoundException")
        payload, qos, modified_ms = found
        return _iot_reply(200, {"topic": topic, "payload": base64.b64encode(payload).decode(), "qos": qos,
                                "lastModifiedTime": modified_ms})

    def health(request: Request) -> Reply:
        return _iot_reply(200, {"ok": True, "standin": "iot", "stats": dict(broker.stats),
                                "fanout_ms": list(broker.fanout_ms)})

    def fallback(request: Request) -> Reply:
        if request.method == "POST":
            return _iot_reply(404, {"message": "no such operation"}, "ResourceNotFoundException")
        return _iot_reply(404, {"message": "not found"})

    return (Router(fallback)
            .add("POST", r"/topics/(.*)", publish)
            .add("GET", r"/retainedMessage/(.*)", get_retained)
            .add("GET", r"/__standin/health", health))


@dataclass
class LocalBroker:
    host: str = "127.0.0.1"
    ws_port: int = 0
    http_port: int = 0
    authorizer: Authorizer = field(default_factory=lambda_authorizer)
    max_auth_workers: int = 8
    # Run the MQTT broker in its own process (its event loop then never waits for the
    # GIL of a busy API process, as IoT Core is a service of its own). Connections are
    # still authorized by `authorizer` in this process, over a loopback HTTP call.
    separate_process: bool = False
    # What a Publish must be signed with (None: the AWS_* credentials in the environment at start)
    # and the region its credential scope must name (None: AWS_REGION / AWS_DEFAULT_REGION, if set).
    credentials: sigv4.LocalCredentials | None = None
    region: str | None = None
    # Where IoT Core's lifecycle events go ((topic, payload); local/mqtt/lifecycle.py): None, nowhere.
    lifecycle: Callable[[str, dict[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        self.name = f"local-broker-{next(_ids)}"
        self.stats: _Stats = _Stats()
        # Server-side publish received -> last QoS 0 subscriber's bytes written, per publish
        # (the most recent ones; stats["fanouts"] counts them all).
        self.fanout_ms: deque[float] = deque(maxlen=1024)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None
        self._http: LoopbackServer | None = None
        self._process: Any = None
        self.urls: dict[str, str] = {}
        self._retained_at: dict[str, int] = {}

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> dict[str, str]:
        if self.credentials is None:
            self.credentials = sigv4.LocalCredentials.from_environment()
        if self.credentials is None:
            log.warning("no AWS credentials in the environment: every iot-data publish will be refused")
        if self.region is None:
            self.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
        if self.separate_process:
            return self._start_process()
        from concurrent.futures import ThreadPoolExecutor

        for name in ("amqtt", "transitions", "websockets"):
            logging.getLogger(name).setLevel(logging.WARNING)
        _registry[self.name] = self
        self.executor = ThreadPoolExecutor(max_workers=self.max_auth_workers, thread_name_prefix="mqtt-auth")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._start_broker())
            except BaseException as exc:  # noqa: BLE001
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._broker.shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="mqtt-broker", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise OSError(f"MQTT broker did not start: {failure[0]}")
        # Keep-alive, as IoT Core's endpoint: boto3 then reuses its connection instead of
        # paying a TCP handshake and a new server thread for every publish.
        self._http = LoopbackServer(_publish_api(self), name="iot-data", host=self.host, port=self.http_port,
                                    keep_alive=True, timeout=None, server_version="iot-data",
                                    methods=("GET", "POST"))
        self._http.start()
        self.http_port = self._http.port
        self.urls = {"ws": f"ws://{self.host}:{self.ws_port}/mqtt", "publish": f"http://{self.host}:{self.http_port}"}
        return self.urls

    async def _start_broker(self) -> None:
        config = {
            "listeners": {"default": {"type": "ws", "bind": f"{self.host}:{self.ws_port}", "max_connections": 0}},
            "plugins": {f"{__name__}.IotAuthPlugin": {"owner": self.name},
                        f"{__name__}.IotPolicyPlugin": {"owner": self.name},
                        "local.mqtt.lifecycle.LifecyclePlugin": {"owner": self.name}},
        }
        self._broker = _broker_class()(config)
        await self._broker.start()
        server = self._broker._servers["default"].instance  # the websockets server: read the bound port
        self.ws_port = next(iter(server.sockets)).getsockname()[1]

    def _start_process(self) -> dict[str, str]:
        import subprocess
        import sys
        from pathlib import Path

        def authorize(request: Request) -> Reply:
            if request.path.endswith("/lifecycle"):        # the broker process's lifecycle events
                if self.lifecycle is not None:
                    event = request.json()
                    self.lifecycle(event["topic"], event["payload"])
                return Reply.json({}, separators=None)
            try:
                result = self.authorizer(request.json())
            except Exception:  # noqa: BLE001
                log.exception("realtime authorizer failed")
                result = {"isAuthenticated": False}
            return Reply.json(result, separators=None)

        self._http = LoopbackServer(authorize, name="mqtt-authorizer", host=self.host, timeout=None,
                                    server_version="mqtt-authorizer", methods=("POST",))
        auth_url = f"{self._http.start()}/authorize"
        root = Path(__file__).resolve().parents[2]
        env = dict(os.environ)
        # The broker process verifies publishes against these (it reads them as start() does here).
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"):
            env.pop(name, None)
        if self.credentials is not None:
            env.update(self.credentials.environment())
        if self.region is not None:
            env["AWS_REGION"] = self.region
        env["PYTHONPATH"] = os.pathsep.join([str(root / "layers" / "shared" / "python"), str(root),
                                             env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local.mqtt", "--host", self.host, "--ws-port", str(self.ws_port),
             "--http-port", str(self.http_port), "--authorizer-url", auth_url,
             *(["--lifecycle-url", auth_url.rsplit("/", 1)[0] + "/lifecycle"] if self.lifecycle else [])],
            cwd=root, env=env, stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent())
        for line in self._process.stdout:
            if line.startswith("READY "):
                fields = dict(part.split("=", 1) for part in line.split()[1:])
                self.urls = {"ws": fields["ws"], "publish": fields["publish"]}
                self.ws_port = int(urlsplit(self.urls["ws"]).port)
                self.http_port = int(urlsplit(self.urls["publish"]).port)
                return self.urls
        raise OSError("MQTT broker process did not start")

    def remote_stats(self) -> dict[str, int]:
        import urllib.request

        with urllib.request.urlopen(f"{self.urls['publish']}/__standin/health", timeout=5) as response:
            return json.loads(response.read())["stats"]

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None
            if self._http is not None:
                self._http.stop()
            return
        if self._http is not None:
            self._http.stop()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.executor.shutdown(wait=False, cancel_futures=True)
        _registry.pop(self.name, None)

    def __enter__(self) -> "LocalBroker":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- server-side publish -----------------------------------------------------
    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False,
                received: float | None = None) -> None:
        """Publish as our functions do through iot-data. `received`: time.perf_counter()
        when the request came in, if earlier than this call (the HTTP handler's)."""
        received = time.perf_counter() if received is None else received
        if self._loop is None:
            raise RuntimeError("broker not started")
        broker = self._broker

        async def send() -> None:
            # Delivered right here rather than through amqtt's broadcast queue, which
            # would cost further turns of the event loop before the first byte goes out.
            broker.reap()
            broker.fan_out(topic, payload, qos, broker._tasks_queue)
            self.fanout_ms.append((time.perf_counter() - received) * 1000)
            self.stats["fanouts"] += 1
            if retain:
                await broker.retain_message(None, topic, payload, qos)
                self._retained_at[topic] = int(time.time() * 1000)

        # Waiting for the delivery also keeps this thread from taking the GIL from the
        # broker's loop while it writes to the subscribers.
        asyncio.run_coroutine_threadsafe(send(), self._loop).result(timeout=10)
        self.stats["publishes"] += 1
        kind = topic.rsplit("/", 2)
        self.stats[f"publishes_{kind[-2] if kind[-2] == 'users' else kind[-1]}"] += 1

    def retained(self, topic: str) -> tuple[bytes, int, int] | None:
        """(payload, qos, stored at in epoch ms) of the topic's retained message, or None."""
        if self._loop is None:
            raise RuntimeError("broker not started")
        broker = self._broker

        async def read() -> tuple[bytes, int, int] | None:
            found = broker._retained_messages.get(topic)
            if found is None or not found.data:
                return None
            return bytes(found.data), int(found.qos or 0), self._retained_at.get(topic, 0)

        return asyncio.run_coroutine_threadsafe(read(), self._loop).result(timeout=10)

    @property
    def connections(self) -> int:
        return len(self._broker._sessions) if self._broker is not None else 0

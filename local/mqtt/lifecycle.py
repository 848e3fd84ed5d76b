"""IoT Core's lifecycle events from the local broker.

IoT Core publishes, for every client (https://docs.aws.amazon.com/iot/latest/developerguide/life-cycle-events.html):

    $aws/events/presence/connected/<clientId>          {"clientId", "timestamp", "eventType": "connected", ...}
    $aws/events/presence/disconnected/<clientId>       {..., "eventType": "disconnected", "clientInitiatedDisconnect", ...}
    $aws/events/subscriptions/subscribed/<clientId>    {..., "eventType": "subscribed", "topics": [...]}
    $aws/events/subscriptions/unsubscribed/<clientId>  {..., "eventType": "unsubscribed", "topics": [...]}

On AWS our IoT topic rules hand them to the live-figures function (cdk/stacks/analytics_stack.py);
here `LifecyclePlugin` builds the same payloads from amqtt's broker events and gives each to the
broker's `lifecycle` sink (topic, payload), which the local stack points at the same function.
A subscription the policy refused is no event (amqtt fires none), as on IoT Core.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from amqtt.plugins.base import BasePlugin

log = logging.getLogger("local.mqtt")
Sink = Callable[[str, dict[str, Any]], None]


def lifecycle_event(kind: str, client_id: str, *, topics: list[str] | None = None,
                    at_ms: int | None = None, session: str = "",
                    disconnect_reason: str = "CLIENT_INITIATED_DISCONNECT") -> tuple[str, dict[str, Any]]:
    """(topic, payload) of one lifecycle event as IoT Core publishes it."""
    group = "presence" if kind in ("connected", "disconnected") else "subscriptions"
    payload: dict[str, Any] = {"clientId": client_id, "timestamp": at_ms if at_ms is not None else int(time.time() * 1000),
                               "eventType": kind, "sessionIdentifier": session or str(uuid.uuid4()),
                               "principalIdentifier": client_id}
    if topics is not None:
        payload["topics"] = topics
    if kind == "disconnected":
        payload.update(clientInitiatedDisconnect=disconnect_reason == "CLIENT_INITIATED_DISCONNECT",
                       disconnectReason=disconnect_reason, versionNumber=0)
    return f"$aws/events/{group}/{kind}/{client_id}", payload


def remote_sink(url: str) -> Sink:
    """A sink in another process (the broker process posts to the local stack's)."""
    import json
    import urllib.request

    def send(topic: str, payload: dict[str, Any]) -> None:
        body = json.dumps({"topic": topic, "payload": payload}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10):
            pass

    return send


class LifecyclePlugin(BasePlugin):
    """One `sessionIdentifier` per connection, as IoT Core's: its connected, subscribed,
    unsubscribed and disconnected events carry the same one, and a new connection of the same
    client id (a reconnect, or a take-over) gets a new one."""

    @dataclass
    class Config:
        owner: str = ""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._sessions: dict[str, str] = {}     # client id -> its current connection's session id

    def _emit(self, kind: str, client_id: str | None, topics: list[str] | None = None, session: str = "",
              **reason: str) -> None:
        from local.mqtt.broker import _registry

        broker = _registry.get(self.config.owner)
        sink = getattr(broker, "lifecycle", None)
        if sink is None or not client_id:
            return
        topic, payload = lifecycle_event(kind, client_id, topics=topics,
                                         session=session or self._sessions.get(client_id, ""), **reason)

        def deliver() -> None:
            try:
                sink(topic, payload)
            except Exception:  # noqa: BLE001 - a rule's action failing does not touch the client
                log.exception("lifecycle event %s not delivered", topic)

        asyncio.get_running_loop().run_in_executor(broker.executor, deliver)

    async def on_broker_client_subscribed(self, *, client_id: str, topic: str, qos: int, **_: Any) -> None:
        self._emit("subscribed", client_id, [topic])

    async def on_broker_client_unsubscribed(self, *, client_id: str, topic: str, **_: Any) -> None:
        self._emit("unsubscribed", client_id, [topic])

    async def on_broker_client_connected(self, *, client_id: str, client_session: Any = None, **_: Any) -> None:
        session = str(uuid.uuid4())
        if client_session is not None:
            client_session.iot_session_identifier = session   # its disconnect names it (after a take-over too)
        if client_id:
            self._sessions[client_id] = session
        self._emit("connected", client_id, session=session)

    async def on_broker_client_disconnected(self, *, client_id: str, client_session: Any = None, **_: Any) -> None:
        session = getattr(client_session, "iot_session_identifier", "") or self._sessions.get(client_id, "")
        if client_id and self._sessions.get(client_id) == session:
            del self._sessions[client_id]
        self._emit("disconnected", client_id, session=session, disconnect_reason=getattr(
            client_session, "iot_disconnect_reason", None) or "CONNECTION_LOST")

"""Live figures of a room (pure): who is online from IoT Core lifecycle events, and the figures.

Source: IoT Core's lifecycle events, through an IoT rule (one invocation per connect, subscribe,
unsubscribe or disconnect; never per heartbeat):

    $aws/events/subscriptions/subscribed/<clientId>    {"clientId", "timestamp", "eventType": "subscribed",
    $aws/events/subscriptions/unsubscribed/<clientId>   "topics": [...], ...}
    $aws/events/presence/disconnected/<clientId>       {"clientId", "timestamp", "eventType": "disconnected", ...}

A client is ONLINE in a room from its subscription to the room's events topic
(lc/<stage>/rooms/<room_id>/events, which every viewer subscribes to) until it unsubscribes
from it or disconnects. Lifecycle events may arrive twice or out of order: each client's
presence carries the time of its last transition, and a transition older than it is ignored.
A user with two connected clients counts twice (two screens).
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

EVENTS_TOPIC = re.compile(r"^lc/(?P<stage>[a-z0-9]{1,16})/rooms/(?P<room>[0-9A-HJKMNP-TV-Z]{26})/events$")
CLIENT_ID = re.compile(r"^lc-(?P<stage>[a-z0-9]{1,16})-(?P<user>[A-Za-z0-9_-]{1,64})-(?P<nonce>[a-z0-9]{12})$")
COUNTER_SHARDS = 10          # a rush of joins spreads over this many counter items
TICK_SECONDS = 5             # the host's figures are pushed this often while the room is live


@dataclass(frozen=True)
class Transition:
    kind: Literal["join", "leave"]
    client_id: str
    user_id: str
    at_ms: int
    room_id: str | None = None     # joins name the room; a disconnect does not (the presence knows it)


def transitions(event: dict[str, Any], stage: str) -> list[Transition]:
    """The presence transitions one lifecycle event means (none for anything else)."""
    client_id = event.get("clientId")
    kind = event.get("eventType")
    at = event.get("timestamp")
    if not isinstance(client_id, str) or not isinstance(at, int) or isinstance(at, bool):
        return []
    client = CLIENT_ID.match(client_id)
    if client is None or client["stage"] != stage:
        return []                   # not one of our viewers' clients (ids are lc-<stage>-<user>-<nonce>)
    user = client["user"]
    if kind == "disconnected":
        return [Transition("leave", client_id, user, at)]
    if kind not in ("subscribed", "unsubscribed"):
        return []
    rooms = []
    for topic in event.get("topics") or ():
        match = EVENTS_TOPIC.match(topic) if isinstance(topic, str) else None
        if match and match["stage"] == stage and match["room"] not in rooms:
            rooms.append(match["room"])
    return [Transition("join" if kind == "subscribed" else "leave", client_id, user, at, room) for room in rooms]


def shard_of(key: str, shards: int = COUNTER_SHARDS) -> int:
    return zlib.crc32(key.encode()) % shards


def minute_of(at: datetime) -> str:
    utc = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:00Z")


def decide(transition: Transition, presence: dict[str, Any] | None) -> Literal["change", "refresh", "ignore"]:
    """What a transition does to a client's presence {state: in|out, at_ms, room_id}:
    change (in <-> out, the online counter moves), refresh (the same state, newer: only its time
    moves, so an older event delivered later cannot undo it), ignore (older than what we know)."""
    if presence is None:
        return "change" if transition.kind == "join" else "refresh"     # a leave first: a tombstone
    if transition.at_ms < int(presence["at_ms"]):
        return "ignore"
    if transition.kind == "leave" and transition.room_id not in (None, presence["room_id"]) \
            and presence["state"] == "in":
        return "ignore"                  # leaving another room's topic
    same = presence["state"] == ("in" if transition.kind == "join" else "out")
    return "refresh" if same else "change"

"""The IoT Core custom authorizer: our login token in, an IoT policy out.

The client connects with
  username  <room_id>            (on AWS: <room_id>?x-amz-customauthorizer-name=<name>)
  password  <login token>        (IoT Core hands it to us base64-encoded)
  client id lc-<stage>-<user_id>-<nonce>   (from GET /v1/rooms/{room_id}/realtime)
The token may also come as the `x-lc-token` header or `token` query parameter
of the WebSocket upgrade (mini-program clients that cannot set a password).

A valid token for a user who may watch the room (public room, or the host of
a test room), who is not banned there, and a client id in that user's own
namespace get the viewer policy (livecommerce.interaction.policy): connect,
subscribe/receive on the room's danmaku and events topics and the user's own
private topic, nothing else. Anything else is `isAuthenticated: false`.

The room's staff also get its staff topic (live figures): the room's host and
operators always (from the token and the room, no read), an assistant of the room
when the username asks for it (`<room_id>?staff=1`, then one read of their grants
through rooms.require_room_staff; only staff clients pay it). A viewer who asks
gets the viewer policy: the staff topic stays closed to them.

The local broker calls this same function (through the same handler) and
enforces the same policy documents.
"""
from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any
from urllib.parse import parse_qs

from livecommerce import rooms
from livecommerce.interaction import policy, repository, topics
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.shared import problems, tokens
from livecommerce.shared.settings import get_settings
from livecommerce.shared.observability import logger

MIN_SESSION_SECONDS = 300        # IoT Core's bounds for disconnect/refreshAfterInSeconds
MAX_SESSION_SECONDS = 86400
REFRESH_SECONDS = 300            # re-authorised every 5 minutes: a ban or room end cuts the session
TOKEN_HEADER = "x-lc-token"


def deny(reason: str) -> dict[str, Any]:
    logger.info("realtime connection refused", extra={"reason": reason})
    return {"isAuthenticated": False, "reason": reason}


def principal_id(user_id: str) -> str:
    """IoT Core wants [a-zA-Z0-9]{1,128}."""
    cleaned = re.sub(r"[^A-Za-z0-9]", "", user_id)[:64]
    return f"{cleaned}{hashlib.sha256(user_id.encode()).hexdigest()[:16]}"


def _decode_password(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def credentials(event: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(token, room id, client id) from an IoT Core authorizer event."""
    data = event.get("protocolData") or {}
    mqtt = data.get("mqtt") or {}
    http = data.get("http") or {}
    token = _decode_password(mqtt.get("password"))
    if not token:
        headers = {str(k).lower(): v for k, v in (http.get("headers") or {}).items()}
        token = headers.get(TOKEN_HEADER)
    if not token:
        query = parse_qs(str(http.get("queryString") or "").lstrip("?"))
        token = (query.get("token") or [None])[0]
    username = str(mqtt.get("username") or "")
    room_id = username.split("?", 1)[0] or None
    return token, room_id, mqtt.get("clientId")


def wants_staff(event: dict[str, Any]) -> bool:
    """The client asked for the staff topic: `staff=1` in the username's query."""
    username = str(((event.get("protocolData") or {}).get("mqtt") or {}).get("username") or "")
    query = parse_qs(username.split("?", 1)[1]) if "?" in username else {}
    return (query.get("staff") or [""])[0] in ("1", "true")


STAFF_CAPABILITY = "moderate"    # every assistant moderates: the capability GET /stats/live asks for


def is_staff(user_id: str, roles: frozenset[str], room: Any, *, asked: bool) -> bool:
    """The host of the room or an operator (no read); an assistant of it when asked (one read)."""
    if room.run_by(user_id, roles):
        return True
    if not asked:
        return False
    from livecommerce.shared.api import Caller  # deferred: the Powertools resolver, only for an assistant's connect

    try:
        rooms.require_room_staff(Caller(user_id=user_id, roles=roles), room.room_id, STAFF_CAPABILITY)
    except problems.Problem:
        return False
    return True


def _arn_parts(function_arn: str | None, region: str) -> tuple[str, str, str]:
    # arn:aws:lambda:<region>:<account>:function:<name>
    parts = (function_arn or "").split(":")
    if len(parts) >= 5 and parts[0] == "arn":
        return parts[1] or "aws", parts[3] or region, parts[4] or "*"
    return "aws", region, "*"


def authorize(event: dict[str, Any], *, function_arn: str | None = None) -> dict[str, Any]:
    token, room_id, client_id = credentials(event)
    if not token:
        return deny("token_missing")
    try:
        claims = tokens.verify(token)
    except tokens.TokenInvalid as exc:
        return deny(f"token_{exc.reason}")
    user_id = claims.user_id
    stage = get_interaction_settings().stage
    if not room_id or not topics.valid_ids(room_id, user_id):
        return deny("room_or_user_invalid")
    if not client_id or not topics.client_id_belongs_to(client_id, stage, user_id):
        return deny("client_id_not_yours")
    room = rooms.get_room(room_id)
    if room is None:
        return deny("room_not_found")
    if not room.visible_to(user_id, claims.roles):       # a test room: its host or an operator only
        return deny("room_not_found")
    if room.status == "ended":
        return deny("room_ended")
    state = repository.get_moderation(room_id, user_id)
    if state is not None and state.banned:
        return deny("banned")
    partition, region, account = _arn_parts(function_arn, get_settings().region)
    staff = is_staff(user_id, frozenset(claims.roles), room, asked=wants_staff(event))
    document = policy.viewer_policy(partition=partition, region=region, account=account, stage=stage,
                                    room_id=room_id, user_id=user_id, client_id=client_id, staff=staff)
    remaining = int(claims.expires_at - time.time())
    return {
        "isAuthenticated": True,
        "principalId": principal_id(user_id),
        "disconnectAfterInSeconds": max(MIN_SESSION_SECONDS, min(MAX_SESSION_SECONDS, remaining)),
        "refreshAfterInSeconds": REFRESH_SECONDS,
        "policyDocuments": [document],
    }

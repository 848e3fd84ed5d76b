"""Who may post beacons for which room: the decision of the beacon route's REQUEST authorizer
(functions/beacon_authorizer; the local gateway runs the same handler).

API Gateway caches an answer per identity source: the Authorization header and the
X-Playback-Token header (the room's playback token, or "none:<room_id>"). Both name one viewer in
one room, and the policy allows exactly this room's beacon method, so a cached answer can never
post for another room (403 there). The answer's context is what the mapping template stamps:
viewer_id, room_id, whether the room is visible to the viewer (a test room of someone else, or no
such room: the template answers 404 exactly as for no room) and whether the playback token is valid.

A missing, invalid or expired login token, or a removed user: Unauthorized (401).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livecommerce import identity, media, rooms
from livecommerce.analytics.beacons import NO_TOKEN_PREFIX
from livecommerce.shared import problems, tokens
from livecommerce.shared.api import Caller


class Unauthorized(Exception):
    """API Gateway's contract for a 401: the authorizer raises Exception("Unauthorized")."""

    def __init__(self, reason: str) -> None:
        super().__init__("Unauthorized")
        self.reason = reason


@dataclass(frozen=True)
class Decision:
    viewer_id: str
    room_id: str
    visible: bool
    playback_token: bool
    allowed: bool = True

    def answer(self, method_arn: str) -> dict[str, Any]:
        return {
            "principalId": self.viewer_id,
            "policyDocument": {"Version": "2012-10-17", "Statement": [{
                "Action": "execute-api:Invoke", "Effect": "Allow" if self.allowed else "Deny",
                "Resource": method_arn}]},
            # API Gateway passes context values as strings to the templates.
            "context": {"viewer_id": self.viewer_id, "room_id": self.room_id,
                        "visible": "true" if self.visible else "false",
                        "playback_token": "true" if self.playback_token else "false"},
        }


def decide(*, bearer: str | None, playback_header: str | None, room_id: str) -> Decision:
    if not bearer:
        raise Unauthorized("missing")
    try:
        claims = tokens.verify(bearer)
    except tokens.TokenInvalid as exc:
        raise Unauthorized(exc.reason) from None
    if not identity.user_exists(claims.user_id):
        raise Unauthorized("unknown_user")
    caller = Caller(claims.user_id, frozenset(claims.roles))
    header = playback_header or ""
    if header.startswith(NO_TOKEN_PREFIX) and header != NO_TOKEN_PREFIX + room_id:
        # The header is part of the cache key: it must name the room the policy is for.
        return Decision(claims.user_id, room_id, visible=False, playback_token=False, allowed=False)
    try:
        room = rooms.require_visible(room_id, caller)
    except problems.NotFound:
        return Decision(claims.user_id, room_id, visible=False, playback_token=False)
    valid = bool(header) and not header.startswith(NO_TOKEN_PREFIX) and bool(room.channel_arn) \
        and media.playback_token_valid(header, room.channel_arn)
    return Decision(claims.user_id, room_id, visible=True, playback_token=valid)

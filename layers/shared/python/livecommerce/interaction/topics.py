"""Topic names and client ids of the room channel (pure).

  lc/<stage>/rooms/<room_id>/danmaku            batched danmaku (server publishes)
  lc/<stage>/rooms/<room_id>/events             broadcasts: likes, products, stock, flash
                                                sales, coupons, stream state (server publishes)
  lc/<stage>/rooms/<room_id>/users/<user_id>    private: own messages, host replies,
                                                mute/ban notices (server publishes)
  lc/<stage>/rooms/<room_id>/state/<kind>       what is running now, one RETAINED message per
                                                kind (card, flash_sale, lottery, poll, quiz,
                                                likes): a late joiner gets each at once on
                                                subscribing to state/+; an empty retained
                                                payload clears it when the thing ends
  lc/<stage>/rooms/<room_id>/staff              the room's staff: live figures every 5 s
                                                (live_stats); only the host, operators and the
                                                room's assistants may subscribe (policy.py)

Viewers subscribe and receive only; nobody but our functions publishes.
Client ids are lc-<stage>-<user_id>-<nonce>: a viewer can only use ids in
their own namespace, so nobody can take over (and disconnect) another
viewer's connection by reusing its client id.
"""
from __future__ import annotations

import re
import secrets
import string

ROOM_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
STAGE = re.compile(r"^[a-z0-9]{1,16}$")
NONCE = re.compile(r"^[a-z0-9]{12}$")
_NONCE_ALPHABET = string.ascii_lowercase + string.digits
PREFIX = "lc"


def room_prefix(stage: str, room_id: str) -> str:
    return f"{PREFIX}/{stage}/rooms/{room_id}"


def danmaku_topic(stage: str, room_id: str) -> str:
    return f"{room_prefix(stage, room_id)}/danmaku"


def events_topic(stage: str, room_id: str) -> str:
    return f"{room_prefix(stage, room_id)}/events"


def private_topic(stage: str, room_id: str, user_id: str) -> str:
    return f"{room_prefix(stage, room_id)}/users/{user_id}"


# The kinds of retained room state (interaction.room_state).
STATE_KINDS = ("card", "flash_sale", "lottery", "poll", "quiz", "likes", "coupon")


def state_topic(stage: str, room_id: str, kind: str) -> str:
    if kind not in STATE_KINDS:
        raise ValueError(f"unknown room state kind {kind!r}")
    return f"{room_prefix(stage, room_id)}/state/{kind}"


def state_filter(stage: str, room_id: str) -> str:
    """The one subscription that brings every retained state of the room."""
    return f"{room_prefix(stage, room_id)}/state/+"


def staff_topic(stage: str, room_id: str) -> str:
    """The room's staff topic (its host, operators, its assistants): live figures."""
    return f"{room_prefix(stage, room_id)}/staff"


def viewer_topics(stage: str, room_id: str, user_id: str) -> dict[str, str]:
    return {"danmaku": danmaku_topic(stage, room_id), "events": events_topic(stage, room_id),
            "private": private_topic(stage, room_id, user_id), "state": state_filter(stage, room_id)}


def client_id_prefix(stage: str, user_id: str) -> str:
    return f"{PREFIX}-{stage}-{user_id}-"


def new_client_id(stage: str, user_id: str) -> str:
    nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(12))
    return client_id_prefix(stage, user_id) + nonce


def client_id_belongs_to(client_id: str, stage: str, user_id: str) -> bool:
    prefix = client_id_prefix(stage, user_id)
    return client_id.startswith(prefix) and bool(NONCE.match(client_id[len(prefix):]))


def valid_ids(room_id: str, user_id: str) -> bool:
    return bool(ROOM_ID.match(room_id or "")) and bool(USER_ID.match(user_id or ""))

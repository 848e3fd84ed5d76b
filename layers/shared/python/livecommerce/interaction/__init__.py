"""Interaction: the real-time room channel on IoT Core.

  danmaku     POST -> validation and moderation -> stored (TTL) -> the DynamoDB
              stream -> realtime batcher -> one sampled batch per room at most
              every 200 ms on the room's `danmaku` topic; the sender's own copy
              at once on their private topic.
  likes       POST -> exact sharded counters -> stream -> the total at most once
              a second on the room's `events` topic.
  broadcasts  domain events (room lifecycle, products, stock, flash sales,
              coupons) -> the room's `events` topic; product and flash-sale
              cards also ride in the video as IVS timed metadata.
  realtime    GET -> endpoint, client id, credentials, topics; the IoT Core
              custom authorizer turns our login token into an IoT policy.

Pure rules (density, moderation text rules, limits, topics, IoT policies) need
no AWS; `realtime` encodes and publishes every message through the realtime
port (livecommerce.shared.ports; IoT Core's data plane in shared.realtime_publisher).
Rooms and identity are reached through their public faces (`livecommerce.rooms`,
`livecommerce.identity`); consumed events are parsed with their producers' models
(`consumed`).
"""

from __future__ import annotations

import time as _time
from typing import Any as _Any


def moderation_of(room_id: str, user_id: str) -> tuple[bool, bool]:
    """(banned, muted now) for a viewer in a room."""
    from livecommerce.interaction import repository  # deferred: pynamodb, not paid at face import

    item = repository.get_moderation(room_id, user_id)
    if item is None:
        return False, False
    return bool(item.banned), bool(item.muted_until and int(item.muted_until) > _time.time())


def danmaku_senders(room_id: str, *, since_ms: int, until_ms: int, text: str) -> list[tuple[str, int]]:
    """(user id, first time in ms) of every viewer whose stored danmaku in [since_ms, until_ms)
    is exactly `text` (trimmed): a keyword lottery's entrants, read once at its close."""
    from livecommerce.interaction import repository  # deferred: pynamodb, not paid at face import

    wanted = text.strip()
    first: dict[str, int] = {}
    for message in repository.iter_messages(room_id, since_ms=since_ms, until_ms=until_ms):
        at = int(message.at_ms)
        if since_ms <= at < until_ms and message.text.strip() == wanted and message.user_id not in first:
            first[message.user_id] = at
    return sorted(first.items(), key=lambda pair: pair[1])


def follow_audience(room_id: str, viewers: int) -> str | None:
    """The room's live viewer count, from whoever just read it (analytics' live-figures ticker, every
    5 s per live room): crowd danmaku and like totals switch to poll from DANMAKU_POLL_ABOVE_VIEWERS
    viewers and back to push below 80 % of it, at most once a minute, unless the room's explicit
    setting holds. The mode announced to the room (`delivery` message), or None when none was."""
    from livecommerce.interaction import service  # deferred: pynamodb, not paid at face import

    return service.follow_audience(room_id, viewers)


def notify_user(room_id: str, user_id: str, message: dict[str, _Any]) -> bool:
    """A private message on the viewer's own topic of the room (best effort: False when it did not go)."""
    from livecommerce.interaction import realtime, topics  # deferred: boto3 publisher on first use
    from livecommerce.interaction.settings import get_interaction_settings  # deferred: as above

    return realtime.publish_best_effort(topics.private_topic(get_interaction_settings().stage, room_id, user_id),
                                        message, qos=1)


def notify_staff(room_id: str, message: dict[str, _Any]) -> bool:
    """A message on the room's staff topic (its host, operators, its assistants: live figures).
    Best effort: False when it did not go."""
    from livecommerce.interaction import realtime, topics  # deferred: boto3 publisher on first use
    from livecommerce.interaction.settings import get_interaction_settings  # deferred: as above

    return realtime.publish_best_effort(topics.staff_topic(get_interaction_settings().stage, room_id), message, qos=1)


def set_room_state(room_id: str, kind: str, message: dict[str, _Any]) -> bool:
    """What is running now (kind: card, flash_sale, lottery, poll, quiz, likes) as the room's retained
    state: a late joiner gets it on subscribing (interaction.room_state). Best effort."""
    from livecommerce.interaction import room_state  # deferred: boto3 publisher on first use

    return room_state.set_state(room_id, kind, message)


def clear_room_state(room_id: str, kind: str) -> bool:
    """The thing ended: an empty retained payload clears the room's `kind` state."""
    from livecommerce.interaction import room_state  # deferred: boto3 publisher on first use

    return room_state.clear_state(room_id, kind)


def like_total(room_id: str) -> int:
    """The room's exact like total so far (the sharded counters, read consistently): a PK's likes score."""
    from livecommerce.interaction import repository  # deferred: pynamodb, not paid at face import

    return repository.like_total(room_id)

"""What is running in a room, as RETAINED messages on its state topics (late joiners).

One retained message per kind (topics.STATE_KINDS: card, flash_sale, lottery, poll, quiz, likes, coupon)
on lc/<stage>/rooms/<room>/state/<kind>. IoT Core (and the local broker, local.mqtt) delivers
the retained message of every state topic to a client the moment it subscribes to state/+, so a
viewer who joins late sees the card on screen, the flash-sale countdown, the open lottery or poll
and the like total at once, without waiting for the next change. When the thing ends its
producer publishes an empty retained payload, which clears the topic (MQTT 3.1.1 §3.3.1.3, IoT
Core does the same) and tells current subscribers it ended.

IoT Core allows one retained publish per second per topic: the producers coalesce (poll results
and like totals at most once a second) and the rest change far less often.

`read(room_id, kind)` is the first read a route can make without a subscription: IoT Core's
GetRetainedMessage (iot-data `get_retained_message`), answered by the local broker's same REST
path on the local stack.
"""
from __future__ import annotations

import json
from typing import Any

from livecommerce.interaction import realtime, topics
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.shared import ports
from livecommerce.shared.observability import logger


def topic(room_id: str, kind: str) -> str:
    return topics.state_topic(get_interaction_settings().stage, room_id, kind)


def set_state(room_id: str, kind: str, message: dict[str, Any]) -> bool:
    """Publish `message` as the room's retained `kind` state (and to its current subscribers).
    Best effort: False (logged) when the publish failed; the next change publishes again."""
    try:
        realtime.publish(topic(room_id, kind), {"kind": kind, "room_id": room_id, **message}, qos=1, retain=True)
        return True
    except realtime.PublishFailed:
        logger.warning("room state publish failed", extra={"room_id": room_id, "kind": kind})
        return False


def clear_state(room_id: str, kind: str) -> bool:
    """The thing ended: an empty retained payload removes the retained message."""
    try:
        ports.get().realtime.publish(topic(room_id, kind), b"", qos=1, retain=True)
        return True
    except Exception:  # noqa: BLE001 - botocore errors and transport failures alike
        logger.warning("room state clear failed", extra={"room_id": room_id, "kind": kind})
        return False


def read(room_id: str, kind: str) -> dict[str, Any] | None:
    """The retained `kind` state of the room (GetRetainedMessage), or None when nothing is retained."""
    from livecommerce.shared import realtime_publisher  # deferred: boto3 client on first use

    payload = realtime_publisher.get_retained(topic(room_id, kind))
    if not payload:
        return None
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None

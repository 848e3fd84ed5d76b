"""Live broadcasts: domain events of the other contexts -> the room's
`events` topic (and, for product cards and flash sales, IVS timed metadata).

Every event in interaction.spec.BROADCAST_EVENTS with a `room_id` in its
detail becomes one message

    {"type": "product_listed", "room_id": ..., "event_id": ..., "at": ..., "data": {...}}

where `type` is the detail type in snake case and `data` is the detail
without internal or personal fields (ARNs, keys, user and order ids, contact
data). StockChanged is coalesced per room and product: at most one message a
second, always the newest stock (by `version`, else by occurrence), and the
last change is always published. Repeated deliveries of the same event id
are dropped.
"""
from __future__ import annotations

import json
import re
from typing import Any

from livecommerce.interaction import cards, gates, repository, topics
from livecommerce.interaction.realtime import publish
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.rooms import repository as rooms  # TODO(face)
from livecommerce.shared.observability import logger

MAX_DATA_BYTES = 8 * 1024
_PRIVATE_KEYS = {"pk", "sk", "stream_key", "user_id", "buyer_id", "viewer_id", "order_id", "created_by",
                 "updated_by", "phone", "email", "address", "openid", "unionid", "event_id", "occurred_at",
                 "visibility", "cause", "previous_status"}
_PRIVATE_PATTERN = re.compile(r"(_arn$|secret|token|password|^gsi)", re.IGNORECASE)


def snake(detail_type: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", detail_type).lower()


def public_data(detail: dict[str, Any]) -> dict[str, Any]:
    def clean(value: Any, depth: int = 0) -> Any:
        if isinstance(value, dict) and depth < 4:
            return {k: clean(v, depth + 1) for k, v in value.items()
                    if k not in _PRIVATE_KEYS and not _PRIVATE_PATTERN.search(str(k))}
        if isinstance(value, list) and depth < 4:
            return [clean(v, depth + 1) for v in value[:50]]
        return value

    data = clean(detail)
    return data if isinstance(data, dict) else {}


def message_for(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    data = public_data(detail)
    data.pop("room_id", None)
    if len(json.dumps(data, ensure_ascii=False)) > MAX_DATA_BYTES:
        data = {k: v for k, v in data.items() if not isinstance(v, (list, dict))}
    return {"type": snake(detail_type), "room_id": detail["room_id"], "event_id": detail.get("event_id"),
            "at": detail.get("occurred_at"), "data": data}


def _stock_version(detail: dict[str, Any]) -> str:
    for name in ("version", "stock_version", "seq"):
        value = detail.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return f"v{value:020d}"
    return f"t{detail.get('occurred_at') or ''}#{detail.get('event_id') or ''}"


def publish_stock(room_id: str, message: dict[str, Any], detail: dict[str, Any]) -> str:
    cfg = get_interaction_settings()
    key = str(detail.get("product_id") or detail.get("listing_id") or detail.get("sku_id") or "all")[:64]
    gate = f"stock#{key}"
    interval = cfg.stock_broadcast_interval_ms
    if not repository.store_pending(room_id, gate, message, _stock_version(detail)):
        return "stale"

    def take(at: int) -> tuple[bool, None]:
        taken, value = repository.take_pending(room_id, gate, now_ms=at, interval_ms=interval)
        if taken and value is not None:
            publish(topics.events_topic(cfg.stage, room_id), value, qos=1)
        return taken, None

    # Not taken: a newer publish carried it, or the trailing publisher of this window will.
    waited = gates.wait_for_trailing(room_id, gate, interval, take, waiting="pending")
    return "published" if waited.taken else "coalesced"


def handle(event: dict[str, Any]) -> str:
    detail_type = str(event.get("detail-type") or "")
    detail = event.get("detail") or {}
    room_id = detail.get("room_id")
    if not isinstance(room_id, str) or not topics.ROOM_ID.match(room_id):
        logger.info("broadcast without a room", extra={"detail_type": detail_type})
        return "ignored"
    event_id = str(detail.get("event_id") or event.get("id") or "")
    if event_id and not repository.first_delivery(event_id):
        return "duplicate"
    try:
        return _broadcast(detail_type, detail, room_id)
    except Exception:
        if event_id:
            repository.forget_delivery(event_id)  # let EventBridge's retry through
        raise


def _broadcast(detail_type: str, detail: dict[str, Any], room_id: str) -> str:
    cfg = get_interaction_settings()
    message = message_for(detail_type, detail)
    if detail_type == "StockChanged":
        return publish_stock(room_id, message, detail)
    publish(topics.events_topic(cfg.stage, room_id), message, qos=1)
    entry = cards.card_for(detail_type, detail, at_ms=gates.now_ms())
    if entry is not None:
        room = rooms.get_room(room_id)
        if room is not None and room.channel_arn:
            cards.deliver(room_id, room.channel_arn, entry)
    return "published"

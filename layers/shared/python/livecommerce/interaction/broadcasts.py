"""Live broadcasts: domain events of the other contexts -> the room's
`events` topic (and, for product cards and flash sales, IVS timed metadata).

Every event in interaction.spec.BROADCAST_EVENTS with a `room_id` in its
detail is parsed with its producer's model (interaction.consumed; a detail that
does not match is logged and let go: `invalid`) and becomes one message

    {"type": "product_listed", "room_id": ..., "event_id": ..., "at": ..., "data": {...}}

where `type` is the detail type in snake case and `data` is the detail
without internal or personal fields (ARNs, keys, user and order ids, contact
data). StockChanged is coalesced per room and product (or flash sale): at most
one message a second, always the newest stock (by occurrence), and the
last change is always published. Repeated deliveries of the same event id
are dropped.

A flash sale's units left (the retained `state/flash_sale`) follow its buys
(OrderCreated of kind flash_sale, its own filtered subscription: nothing on the
events topic), cancels and expiries (StockChanged of the sale): read from the
sale's shards at most once a second per sale (interaction.flash_units).
"""
from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from livecommerce import rooms
from livecommerce.interaction import cards, consumed, flash_units, gates, repository, state_feed, topics
from livecommerce.interaction.realtime import publish
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.orders.events import OrderCreated
from livecommerce.shared.events import DomainEvent
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


def message_for(event: DomainEvent, detail: dict[str, Any]) -> dict[str, Any]:
    """The room's message for a parsed event; `data` is the public part of its detail."""
    data = public_data(detail)
    data.pop("room_id", None)
    if len(json.dumps(data, ensure_ascii=False)) > MAX_DATA_BYTES:
        data = {k: v for k, v in data.items() if not isinstance(v, (list, dict))}
    return {"type": snake(event.detail_type), "room_id": event.room_id, "event_id": event.event_id,
            "at": event.occurred_at, "data": data}


def _stock_version(event: DomainEvent) -> str:
    """Newer changes sort higher: the producer's occurrence time, then the event id."""
    return f"t{event.occurred_at or ''}#{event.event_id or ''}"


def publish_stock(room_id: str, message: dict[str, Any], event: DomainEvent) -> str:
    cfg = get_interaction_settings()
    key = str(event.product_id or event.flash_sale_id or "all")[:64]
    gate = f"stock#{key}"
    interval = cfg.stock_broadcast_interval_ms
    if not repository.store_pending(room_id, gate, message, _stock_version(event)):
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
    if detail_type == OrderCreated.detail_type:
        return _flash_order(detail, room_id)
    try:
        typed = consumed.parse(detail_type, detail)
    except (consumed.NotConsumed, ValidationError) as exc:
        # A detail its producer's model does not accept: retrying will not help.
        logger.error("broadcast event not as its producer declares it", extra={
            "detail_type": detail_type, "error": str(exc)[:1000]})
        return "invalid"
    event_id = str(typed.event_id or event.get("id") or "")
    if event_id and not repository.first_delivery(event_id):
        return "duplicate"
    try:
        return _broadcast(typed, detail, room_id)
    except Exception:
        if event_id:
            repository.forget_delivery(event_id)  # let EventBridge's retry through
        raise


def _flash_order(detail: dict[str, Any], room_id: str) -> str:
    """A flash-sale buy (OrderCreated of kind flash_sale; the subscription filters on it): the sale's
    units left on the room's card, coalesced (interaction.flash_units). Nothing is published on the
    events topic (an order is private), and no delivery dedup: the units are read, not counted, so a
    repeat costs at most one coalesced read."""
    try:
        order = OrderCreated.parse(detail)
    except ValidationError as exc:
        logger.error("broadcast event not as its producer declares it", extra={
            "detail_type": OrderCreated.detail_type, "error": str(exc)[:1000]})
        return "invalid"
    if order.kind != "flash_sale" or not order.flash_sale_id:
        return "ignored"
    return f"units_{flash_units.changed(room_id, order.flash_sale_id)}"


# Events after which the sale's units left are read again (a cancel or an expiry gives units back;
# the start and the sold-out mark show a count of their own, which the read then corrects).
UNITS_AFTER = ("StockChanged", "FlashSaleStarted", "FlashSaleSoldOut")


def _broadcast(event: DomainEvent, detail: dict[str, Any], room_id: str) -> str:
    cfg = get_interaction_settings()
    message = message_for(event, detail)
    state_feed.apply(event, room_id)       # what a late joiner sees (retained room state)
    if event.detail_type == "StockChanged":
        outcome = publish_stock(room_id, message, event)
    else:
        publish(topics.events_topic(cfg.stage, room_id), message, qos=1)
        entry = cards.card_for(event, at_ms=gates.now_ms())
        if entry is not None:
            room = rooms.get_room(room_id)
            if room is not None and room.channel_arn:
                cards.deliver(room_id, room.channel_arn, entry)
        outcome = "published"
    sale_id = getattr(event, "flash_sale_id", None)
    if sale_id and event.detail_type in UNITS_AFTER:
        flash_units.changed(room_id, sale_id)
    return outcome

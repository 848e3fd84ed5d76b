"""Video-synced cards: IVS timed metadata (PutMetadata) so a product card or a
flash sale appears in step with the host's words in the video.

IVS accepts at most 5 PutMetadata calls a second per channel and 1 KB per
call. Cards wait on a gate item (one call per 200 ms per room); whoever takes
the slot takes every waiting card and packs as many as fit in 1 KB into one
call (merged, never dropped for rate); the rest go back to the head of the
queue for the next slot, and one trailing caller waits for it. A throttled
call puts its cards back the same way. Cards older than CARD_MAX_AGE_MS are
let go: the moment has passed (the card is also on the room's events topic).
"""
from __future__ import annotations

import json
from typing import Any, Callable

from livecommerce.interaction import gates, repository
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.catalog.events import ProductListed
from livecommerce.orders.events import FlashSaleStarted
from livecommerce.shared import aws
from livecommerce.shared.events import DomainEvent
from livecommerce.shared.observability import logger

METADATA_MAX_BYTES = 1024
CARD_MAX_AGE_MS = 10_000
GATE = "metadata"
TITLE_CHARS = 40


def _product_card(event: ProductListed) -> dict[str, Any]:
    return {"type": "product_listed", "product_id": event.product_id, "title": event.name[:TITLE_CHARS],
            "price": event.live_price, "live_price": event.live_price, "stock": event.stock_left}


def _flash_sale_card(event: FlashSaleStarted) -> dict[str, Any]:
    return {"type": "flash_sale_started", "flash_sale_id": event.flash_sale_id, "product_id": event.product_id,
            "title": event.name[:TITLE_CHARS], "price": event.price, "original_price": event.list_price,
            "stock": event.stock, "limit_per_user": event.per_user_limit, "starts_at": event.starts_at,
            "ends_at": event.ends_at}


# The events that become cards, read from their producers' models.
CARDS: dict[type[DomainEvent], Callable[[Any], dict[str, Any]]] = {
    ProductListed: _product_card,
    FlashSaleStarted: _flash_sale_card,
}
CARD_EVENTS: tuple[str, ...] = tuple(model.detail_type for model in CARDS)


def card_for(event: DomainEvent, *, at_ms: int) -> dict[str, Any] | None:
    """The card of a parsed event ({"at_ms", "card"}), None when the event has no card."""
    builder = CARDS.get(type(event))
    if builder is None:
        return None
    card = builder(event)
    if event.event_id:
        card["event_id"] = event.event_id
    return {"at_ms": at_ms, "card": card}


def encode(cards: list[dict[str, Any]]) -> str:
    return json.dumps({"v": 1, "cards": cards}, ensure_ascii=False, separators=(",", ":"))


def pack(queued: list[dict[str, Any]], *, now_ms: int, max_bytes: int = METADATA_MAX_BYTES
         ) -> tuple[str | None, list[dict[str, Any]], list[dict[str, Any]], int]:
    """(payload of the oldest cards that fit in one call, the cards in it, the fresh cards
    left for later, how many stale cards were let go)."""
    fresh = [q for q in queued if now_ms - int(q.get("at_ms", now_ms)) <= CARD_MAX_AGE_MS]
    stale = len(queued) - len(fresh)
    chosen: list[dict[str, Any]] = []
    used = 0
    for entry in fresh:
        candidate = chosen + [entry["card"]]
        if len(encode(candidate).encode("utf-8")) <= max_bytes:
            chosen, used = candidate, used + 1
            continue
        if not chosen:  # one card alone is too big: send its ids only
            chosen = [{k: v for k, v in entry["card"].items()
                       if k in ("type", "product_id", "listing_id", "flash_sale_id", "sale_id", "event_id")}]
            used = 1
        break
    return (encode(chosen) if chosen else None), fresh[:used], fresh[used:], stale


def _error_code(exc: Exception) -> str:
    return ((getattr(exc, "response", None) or {}).get("Error") or {}).get("Code", type(exc).__name__)


def put_metadata(channel_arn: str, payload: str) -> str:
    """'ok', 'throttled', 'not_broadcasting' or 'failed' (never raises)."""
    try:
        aws.client("ivs").put_metadata(channelArn=channel_arn, metadata=payload)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        code = _error_code(exc)
        if code == "ThrottlingException":
            return "throttled"
        if code == "ChannelNotBroadcasting":
            return "not_broadcasting"
        logger.warning("PutMetadata failed", extra={"code": code})
        return "failed"


def deliver(room_id: str, channel_arn: str, entry: dict[str, Any]) -> int:
    """Queue one card and take part in sending the queue; returns PutMetadata calls made."""
    interval = get_interaction_settings().metadata_interval_ms
    repository.enqueue(room_id, GATE, [entry])
    calls = 0

    def take(at: int) -> tuple[bool, None]:
        """Send what fits in one call if the slot is ours; done unless cards remain."""
        nonlocal calls
        taken, queued = repository.take_queue(room_id, GATE, now_ms=at, interval_ms=interval)
        if not taken:
            return False, None
        payload, sent, rest, stale = pack(queued, now_ms=gates.now_ms())
        if stale:
            logger.info("stale timed-metadata cards let go", extra={"room_id": room_id, "cards": stale})
        if payload is not None:
            calls += 1
            outcome = put_metadata(channel_arn, payload)
            if outcome == "throttled":
                rest = sent + rest  # everything back, in order, for the next slot
            elif outcome == "not_broadcasting":
                return True, None  # no video to carry them; the events topic has them
        if not rest:
            return True, None
        repository.requeue(room_id, GATE, rest)
        return False, None      # the rest wait for the next slot (another caller takes them, or we do)

    gates.wait_for_trailing(room_id, GATE, interval, take, waiting="cards")
    return calls

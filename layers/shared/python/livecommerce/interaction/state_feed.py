"""Room broadcasts -> the room's retained state (late joiners, interaction.room_state).

The broadcasts consumer (interaction.broadcasts) hands every room event here as well:

  card        ProductListed shows the product's card; ProductUnlisted of that product clears it
  flash_sale  FlashSaleScheduled (countdown: starts_at), FlashSaleStarted (ends_at, stock),
              FlashSaleSoldOut; FlashSaleEnded clears it. The units left follow every buy, cancel and
              expiry (OrderCreated of the sale, StockChanged of the sale): interaction.flash_units reads
              the sale's shards at most once a second per sale and republishes (publish_flash_sale_units)
  lottery     LotteryOpened (closes_at, keyword, prize), LotteryClosed (drawing: entrants, draws_at);
              LotteryDrawn clears it (the winners are on the events topic)
  coupon      CouponDropped shows the open drop (now, or a scheduled one at its time); CouponDropExhausted
              of that drop (its last coupon claimed) clears it; a newer drop replaces it
  likes       the likes batcher's flush (interaction.batcher): the exact total, at most once a second
  (all)       RoomEnded clears every kind

Polls and quizzes publish their own state (engagement.polls). Events may come out of order or
twice: a change applies only when newer than the last one applied (interaction.state_storage),
so an old listing never replaces a newer card and a stale end never clears a newer thing. The
clients count down from starts_at / ends_at / closes_at: countdown events are not republished
(IoT Core takes one retained publish a second per topic).
"""
from __future__ import annotations

from typing import Any

from livecommerce.interaction import room_state, state_storage, topics
from livecommerce.shared.events import DomainEvent

TITLE_CHARS = 40


def version_of(event: DomainEvent) -> str:
    return f"{event.occurred_at or ''}#{event.event_id or ''}"


def _flash_sale(event: Any, phase: str, stock: int) -> dict[str, Any]:
    return {"type": "flash_sale", "phase": phase, "flash_sale_id": event.flash_sale_id,
            "product_id": event.product_id, "title": event.name[:TITLE_CHARS], "image": event.image,
            "price": event.price, "original_price": event.list_price, "stock": stock,
            "limit_per_user": event.per_user_limit, "starts_at": event.starts_at, "ends_at": event.ends_at}


def _show(room_id: str, kind: str, subject: str, event: DomainEvent, message: dict[str, Any], *,
          stock: int | None = None, same_subject: bool = False) -> str:
    if not state_storage.show(room_id, kind, subject, version_of(event), message, stock=stock,
                              same_subject=same_subject):
        return "stale"
    room_state.set_state(room_id, kind, message)
    return f"{kind}_set"


def _end(room_id: str, kind: str, subject: str | None, event: DomainEvent) -> str:
    if not state_storage.end(room_id, kind, subject, version_of(event)):
        return "stale"
    room_state.clear_state(room_id, kind)
    return f"{kind}_cleared"


def apply(event: DomainEvent, room_id: str) -> str | None:
    """Update the room's retained state for one parsed room event; what was done (None: nothing)."""
    kind = event.detail_type
    if kind == "ProductListed":
        return _show(room_id, "card", event.product_id, event, {
            "type": "product_card", "product_id": event.product_id, "title": event.name[:TITLE_CHARS],
            "image": event.image, "price": event.live_price, "stock": event.stock_left,
            "promotion_note": event.promotion_note})
    if kind == "ProductUnlisted":
        return _end(room_id, "card", event.product_id, event)
    if kind == "FlashSaleScheduled":
        return _show(room_id, "flash_sale", event.flash_sale_id, event, _flash_sale(event, "scheduled", event.stock),
                     stock=event.stock)
    if kind == "FlashSaleStarted":
        return _show(room_id, "flash_sale", event.flash_sale_id, event, _flash_sale(event, "running", event.stock),
                     stock=event.stock)
    if kind == "FlashSaleSoldOut":
        return _show(room_id, "flash_sale", event.flash_sale_id, event, _flash_sale(event, "sold_out", 0),
                     stock=0, same_subject=True)
    if kind == "FlashSaleEnded":
        return _end(room_id, "flash_sale", event.flash_sale_id, event)
    if kind == "LotteryOpened":
        return _show(room_id, "lottery", event.lottery_id, event, {
            "type": "lottery", "phase": "open", "lottery_id": event.lottery_id, "lottery_kind": event.kind,
            "keyword": event.keyword, "prize_kind": event.prize_kind, "prize_name": event.prize_name,
            "winners": event.winners, "opens_at": event.opens_at, "closes_at": event.closes_at,
            "commitment": event.commitment})
    if kind == "LotteryClosed":
        shown = state_storage.current(room_id, "lottery")
        message = {**((shown.message or {}) if shown and shown.subject == event.lottery_id else {}),
                   "type": "lottery", "phase": "drawing", "lottery_id": event.lottery_id,
                   "entrants": event.entrants, "entrants_hash": event.entrants_hash, "draws_at": event.draws_at}
        return _show(room_id, "lottery", event.lottery_id, event, message, same_subject=True)
    if kind == "LotteryDrawn":
        return _end(room_id, "lottery", event.lottery_id, event)
    if kind == "CouponDropped":
        # The open drop as retained state (a viewer opening the page later still sees it and claims), and
        # kept for the room-entry snapshot (coupons on offer); the drop itself is also on the events topic.
        return _show(room_id, "coupon", event.drop_id, event, {
            "type": "coupon_drop", "drop_id": event.drop_id, "name": event.name, "kind": event.kind,
            "amount": event.amount, "threshold": event.threshold, "quantity": event.quantity,
            "drops_at": event.drops_at})
    if kind == "CouponDropExhausted":
        return _end(room_id, "coupon", event.drop_id, event)
    if kind == "RoomEnded":
        for state_kind in ("card", "flash_sale", "lottery", "coupon"):
            state_storage.end(room_id, state_kind, None, version_of(event))
        for state_kind in topics.STATE_KINDS:
            room_state.clear_state(room_id, state_kind)
        return "all_cleared"
    return None


def publish_flash_sale_units(room_id: str, flash_sale_id: str, units: int, *, read_at_ms: int) -> bool:
    """Republish the sale's state with `units` left, read from its shards at `read_at_ms`
    (interaction.flash_units, coalesced); False when the sale is no longer on show or a later read
    was published. Sold out at 0 units, running again when a cancel or an expiry gives units back."""
    shown = state_storage.current(room_id, "flash_sale")
    if shown is None or shown.subject != flash_sale_id or not shown.message:
        return False
    units = max(int(units), 0)
    if not state_storage.set_units(room_id, "flash_sale", flash_sale_id, units, read_at_ms=read_at_ms):
        return False
    message = {**shown.message, "stock": units}
    if units == 0 and message.get("phase") == "running":
        message["phase"] = "sold_out"
    elif units > 0 and message.get("phase") == "sold_out":
        message["phase"] = "running"
    return room_state.set_state(room_id, "flash_sale", message)

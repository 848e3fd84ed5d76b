"""A running flash sale's units left on the room's card, following every buy, off the buy's path.

A buy writes nothing for this (orders.flash: the buy's transaction and its write units are
unchanged). The broadcasts consumer hands here every event that moves a sale's stock or its
display: OrderCreated of a flash-sale order (a buy), StockChanged of the sale (a cancel or an
expiry gives units back), FlashSaleStarted and FlashSaleSoldOut. None of them carries a count to
add: the units are read from the source of truth, the sum of the sale's stock shards
(`orders.flash_sale_units_left`: one strongly consistent BatchGetItem), so a redelivered event,
an event out of order or a lost one never makes the number drift.

Coalescing, per sale, in fixed windows of `stock_broadcast_interval_ms` (1 s):

* An event seen at `now` in the window ending at `end` claims that window's read on the sale's
  gate item (`claim_trailing`: `trailing_ms < end`). The one that claims it waits until
  `end + SKEW_MS`, reads the shards and republishes the retained `state/flash_sale` (and the
  room-state item, so the entry snapshot agrees). Every change committed before `end` is in
  that read: an event is published after its change commits, and seen before `end`.
* The others find the window claimed and return. A container remembers the window it saw
  claimed, so while it lasts further events cost no request at all: a 10,000-buys-a-second
  sale is one read and one publish a second, and at most one gate write per container per
  second.
* Reads are stored with their time (`state_storage.set_units`: a later read wins), so an
  older read finishing late never replaces a newer one. 0 units turns the card sold out; units
  given back turn it running again.

If the reader of a window dies before publishing, the next event's window reads again; the
sold-out event also triggers a read, so the last state is read after the last change.
"""
from __future__ import annotations

from livecommerce import orders
from livecommerce.interaction import gates, repository, state_feed
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.shared.observability import logger

# Past the window's end before reading: covers clock differences between containers.
SKEW_MS = 50
_CACHE_MAX = 1000
# sale id -> the end (ms) of the latest window this container knows a reader has claimed
_claimed: dict[str, int] = {}


def clear_cache() -> None:
    _claimed.clear()


def gate_name(sale_id: str) -> str:
    return f"units#{sale_id[:64]}"


def window_end(now_ms: int, interval_ms: int) -> int:
    """The end of the fixed window holding `now_ms`."""
    return (now_ms // interval_ms + 1) * interval_ms


def changed(room_id: str, sale_id: str) -> str:
    """The sale's stock may have moved: 'coalesced' (a reader of this window will publish it),
    'published', 'not_shown' (the sale is not the room's flash sale on show, or a newer read won)
    or 'no_sale'."""
    interval = max(1, get_interaction_settings().stock_broadcast_interval_ms)
    end = window_end(gates.now_ms(), interval)
    if _claimed.get(sale_id, 0) >= end:
        return "coalesced"
    claimed = repository.claim_trailing(room_id, gate_name(sale_id), until_ms=end)
    if len(_claimed) >= _CACHE_MAX:
        _claimed.clear()
    _claimed[sale_id] = max(end, _claimed.get(sale_id, 0))
    if not claimed:
        return "coalesced"           # the reader of this window (or a later one) reads after this change
    gates.sleep_ms(end + SKEW_MS - gates.now_ms())
    read_at = gates.now_ms()
    units = orders.flash_sale_units_left(sale_id)
    if units is None:
        logger.warning("units left of an unknown flash sale", extra={"room_id": room_id, "flash_sale_id": sale_id})
        return "no_sale"
    if not state_feed.publish_flash_sale_units(room_id, sale_id, units, read_at_ms=read_at):
        return "not_shown"
    return "published"

"""The room-entry snapshot: one document, the same for every viewer, that CloudFront (and
locally an nginx proxy_cache with the same policy) serves for a second or two, so a crowd
entering a live room costs the origin about one request per TTL per edge, not one per viewer.

Nothing per viewer is in it and the caller is never read: a test room is 404 to everyone here
(its host rehearses through the normal routes), so the cached answer can never leak one.
The 404 and the ended room are cached too (negative caching), with the same short TTL."""
from __future__ import annotations

from typing import Any

from livecommerce import catalog, identity, rooms
from livecommerce.interaction import repository, state_storage
from livecommerce.interaction.models import RoomSnapshot, SnapshotCard, SnapshotHost, SnapshotRoom
from livecommerce.interaction.together import together
from livecommerce.shared import problems
from livecommerce.shared.clock import now_iso

# The edge keeps a snapshot this long and may serve it this much longer while one request
# refreshes it (CloudFront's cache policy and the local proxy read the same figures).
MAX_AGE_SECONDS = 1
STALE_WHILE_REVALIDATE_SECONDS = 2
CACHE_CONTROL = f"public, max-age={MAX_AGE_SECONDS}, stale-while-revalidate={STALE_WHILE_REVALIDATE_SECONDS}"
FEED_CACHE_CONTROL = f"public, max-age={MAX_AGE_SECONDS}"
ENDED = "ended"


def _on_show(room_id: str, kind: str) -> dict[str, Any] | None:
    shown = state_storage.current(room_id, kind)
    if shown is None or not shown.subject or not shown.message:
        return None
    message = dict(shown.message)
    if shown.stock is not None and "stock" in message:
        message["stock"] = max(int(shown.stock), 0)      # units left now (StockChanged adds to it)
    return message


def room_snapshot(room_id: str) -> RoomSnapshot:
    room = rooms.check_visible(rooms.get_room(room_id), None, hidden=not_found())   # a test room, no room: 404
    live = room.status != ENDED
    title, host, cards, card, sale, lottery, coupon, likes = together(
        lambda: rooms.room_title(room_id),
        lambda: identity.find_host(room.host_id),
        (lambda: catalog.room_cards(room_id)) if live else None,
        (lambda: _on_show(room_id, "card")) if live else None,
        (lambda: _on_show(room_id, "flash_sale")) if live else None,
        (lambda: _on_show(room_id, "lottery")) if live else None,
        (lambda: _on_show(room_id, "coupon")) if live else None,
        lambda: repository.like_total(room_id))
    return RoomSnapshot(
        room=SnapshotRoom(id=room_id, title=title, status=room.status, scheduled_start=room.scheduled_start),
        host=SnapshotHost(id=room.host_id, nickname=host.display_name if host else None,
                          avatar=host.avatar if host else None),
        cards=[SnapshotCard(**c) for c in (cards or [])],
        card_on_show=card, flash_sale=sale, lottery=lottery, coupons=[coupon] if coupon else [],
        likes_total=likes, server_time=now_iso())


def not_found() -> problems.Problem:
    return problems.NotFound("No such room.", code="room_not_found", headers={"Cache-Control": CACHE_CONTROL})

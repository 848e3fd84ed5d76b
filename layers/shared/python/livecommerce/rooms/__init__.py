"""Rooms: announcements, schedule, reservations, stream lifecycle, materials.

The public face: what other contexts may call. They get `RoomRef` (a pydantic
view), never the rooms table's items; events are in `livecommerce.rooms.events`.
The functions import the service inside so that importing this package stays
cheap (no PynamoDB or boto3: the manifest reads every context's spec,
which runs this module first).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from livecommerce.rooms import rules
from livecommerce.rooms.models import ReservationRef, RoomRef
from livecommerce.shared.ttl_cache import TtlCache

if TYPE_CHECKING:
    from livecommerce.shared.api import Caller
    from livecommerce.shared.problems import Problem

__all__ = ["ReservationRef", "RoomRef", "reservation", "reservation_phone", "reservations_page", "room_title", "check_visible", "clear_cache", "get_room", "plan_switch", "require_room_host", "require_room_staff",
           "require_visible", "room_ids_of_host",
           "sweep_outbox"]

# Rooms read by the hot room-scoped paths (a flash-sale buy, a coupon claim) that may use a copy
# up to a second old: a crowd in one room reads that one item once a second per container
# instead of once a request. A visibility change takes at most that second to reach them.
_recent: TtlCache[str, RoomRef | None] = TtlCache(1.0)



def get_room(room_id: str, *, consistent: bool = False) -> RoomRef | None:
    """The room, or None when there is no such room (whoever asks: callers check visibility)."""
    from livecommerce.rooms import service  # deferred: pynamodb (the realtime authorizer's cold start)

    return service.room_ref(room_id, consistent=consistent)


# How many of a host's rooms analytics reads across (the host's earlier sessions, a product's
# sessions): the most recent ones by scheduled start. Athena's partition projection needs the rooms
# named in the query (`room_id IN (...)`), so the list is bounded.
HOST_ROOMS_READ = 200


def room_ids_of_host(host_id: str, *, before: str | None = None, limit: int = HOST_ROOMS_READ) -> list[str]:
    """The ids of the host's rooms (test rooms too), newest scheduled start first, at most `limit`
    (HOST_ROOMS_READ, 200): with `before` (ISO 8601), only rooms scheduled to start at or before it."""
    from livecommerce.rooms import repository  # deferred: pynamodb (cheap face for callers that need little)

    return repository.room_ids_of_host(host_id, before=before, limit=limit)


def require_room_host(caller: Caller, room_id: str) -> RoomRef:
    """The room when the caller runs it (its host or an operator); 404 for a test room they do not
    run, 403 for a public one."""
    from livecommerce.rooms import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.ref_of(service.require_room_host(caller, room_id))


# What a room's assistants may be allowed to do (identity.ASSISTANT_CAPABILITIES): moderate, list_products,
# drop_coupons, run_lotteries, run_polls. Prices, stock and payouts are none of them.
def require_room_staff(caller: Caller, room_id: str, capability: str) -> RoomRef:
    """The room when the caller runs it (its host, an operator) or assists in it with `capability`
    (named by the host for this room or all their rooms). The one check routes an assistant may
    use call instead of require_room_host: 403 host_required for a caller who is neither a host
    nor anyone's assistant with that capability, 404 for a room they may not see (test rooms are
    their host's and operators' only), 403 not_room_host otherwise."""
    from livecommerce.rooms import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.ref_of(service.require_room_staff(caller, room_id, capability))


def require_visible(room_id: str, caller: Caller | None, *, cached: bool = False,
                    hidden: Problem | None = None) -> RoomRef:
    """The visibility gate every room-scoped route passes (Route.room_from in the specs): the room
    when the caller may see it, else 404 `room_not_found` exactly as for a room that does not
    exist (a test room is there only for those who run it: its host and operators).

    `hidden`: the problem to raise instead, for a route that reached the room through an entity
    of it (a flash sale, a coupon drop): that entity's own not-found answer, so a test room's
    sale looks like no sale at all. `cached`: a copy of the room up to a second old (hot paths)."""
    room = _recent.get(room_id, lambda: get_room(room_id), fresh=not cached)
    return check_visible(room, caller, hidden=hidden)


def check_visible(room: RoomRef | None, caller: Caller | None, *, hidden: Problem | None = None) -> RoomRef:
    """The gate for a room the caller has already read (None: there is no such room)."""
    if room is None:
        raise hidden if hidden is not None else rules.room_not_found()
    rules.check_visible(caller, room.host_id, room.visibility, hidden=hidden)
    return room


def clear_cache() -> None:
    _recent.clear()


def plan_switch(room_id: str) -> str | None:
    """The host is moving the channel's stream into or out of a co-stream composition (media's layout
    change): stream ends in the next lifecycle.PLANNED_SWITCH_SECONDS do not interrupt the room unless
    no stream comes back in time. Returns the window's end (ISO 8601), None when the room is not on air."""
    from livecommerce.rooms import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.open_planned_switch(room_id)


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    """Publish room events a crash left in the rooms outbox (the outbox sweeper)."""
    from livecommerce.rooms import repository  # deferred: pynamodb (cheap face for callers that need little)

    return repository.sweep_outbox(older_than_seconds=older_than_seconds)


# -- the reminder workflow (livecommerce.notifications) -------------------------------

def reservations_page(room_id: str, *, after: str | None = None,
                      limit: int = 500) -> tuple[list[ReservationRef], str | None]:
    """A page of the room's reservations in viewer order, and the cursor (a viewer id) of the next."""
    from livecommerce.rooms import reminders  # deferred: pynamodb (cheap face for callers that need little)

    return reminders.reservations_page(room_id, after=after, limit=limit)


def reservation(room_id: str, viewer_id: str) -> ReservationRef | None:
    from livecommerce.rooms import reminders  # deferred: pynamodb (cheap face for callers that need little)

    return reminders.reservation(room_id, viewer_id)


def reservation_phone(room_id: str, viewer_id: str) -> str | None:
    """The reservation's phone number, decrypted (KMS, the reservation's encryption context)."""
    from livecommerce.rooms import reminders  # deferred: pynamodb and KMS (cheap face)

    return reminders.reservation_phone(room_id, viewer_id)


def room_title(room_id: str) -> str | None:
    from livecommerce.rooms import reminders  # deferred: pynamodb (cheap face for callers that need little)

    return reminders.room_title(room_id)

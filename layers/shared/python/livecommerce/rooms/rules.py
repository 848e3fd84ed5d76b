"""Room rules with no I/O: who runs a room, what an edit may change, what a reservation
needs, how rooms are listed and what an announcement shows. rooms/service.py applies them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterable

from livecommerce.rooms import lifecycle
from livecommerce.shared import problems
from livecommerce.shared.clock import iso

if TYPE_CHECKING:
    from livecommerce.shared.api import Caller

MAX_SCHEDULE_AHEAD = timedelta(days=180)
EDITABLE_STATUSES = frozenset({lifecycle.SCHEDULED})
NOT_NULL_ON_EDIT = ("title", "scheduled_start", "visibility")
START_RULE = ("ISO 8601 with a time zone; in the future and at most 180 days ahead (422 `validation_failed` "
              "on `body.scheduled_start` otherwise: a rule relative to now, which a schema cannot state).")
RESERVABLE_STATUSES = frozenset({lifecycle.SCHEDULED, lifecycle.LIVE, lifecycle.INTERRUPTED})
PAST_SESSIONS_SHOWN = 10


def can_run(user_id: str | None, roles: Iterable[str], host_id: str) -> bool:
    """Operators run every room; a host runs their own."""
    roles = set(roles)
    return user_id is not None and ("operator" in roles or ("host" in roles and user_id == host_id))


def visible(user_id: str | None, roles: Iterable[str], host_id: str, visibility: str) -> bool:
    """A test room does not exist for anyone but the people who run it. The one visibility rule:
    the rooms service, RoomRef.visible_to and the gate every room-scoped route passes
    (livecommerce.rooms.require_visible) all ask it."""
    return visibility == "public" or can_run(user_id, roles, host_id)


def room_not_found() -> problems.NotFound:
    """The answer for a room that does not exist, and for a test room to anyone who may not see it
    (the same body, so a test room's existence does not leak)."""
    return problems.NotFound("No such room.", code="room_not_found")


def check_visible(caller: Caller | None, host_id: str, visibility: str, *,
                  hidden: problems.Problem | None = None) -> None:
    """The visibility gate's decision: raise `hidden` (default: room_not_found) unless the caller
    may see the room. livecommerce.rooms.require_visible and the rooms service both end here."""
    if not visible(caller.user_id if caller else None, caller.roles if caller else (), host_id, visibility):
        raise hidden if hidden is not None else room_not_found()


def check_start(value: datetime, now: datetime) -> str:
    """A scheduled start is in the future and at most 180 days ahead; returned as ISO 8601 UTC."""
    if value <= now:
        raise problems.ValidationFailed("scheduled_start: must be in the future.",
                                        errors=[{"field": "body.scheduled_start", "message": "must be in the future",
                                                 "type": "value_error"}])
    if value - now > MAX_SCHEDULE_AHEAD:
        raise problems.ValidationFailed("scheduled_start: at most 180 days ahead.",
                                        errors=[{"field": "body.scheduled_start", "message": "too far ahead",
                                                 "type": "value_error"}])
    return iso(value)


def check_editable(status: str) -> None:
    if status not in EDITABLE_STATUSES:
        raise problems.Conflict("The room has started; it can no longer be edited.", code="room_started")


def edit_values(changes: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The values an edit sets, checked: a new start is in the future (and stored as ISO text);
    title, start and visibility cannot be cleared. Raises on the first bad field, in request order."""
    if not changes:
        raise problems.BadRequest("Nothing to change.", code="empty_update")
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field in NOT_NULL_ON_EDIT and value is None:
            raise problems.ValidationFailed(f"{field}: cannot be cleared.", errors=[
                {"field": f"body.{field}", "message": "cannot be null", "type": "value_error"}])
        if field == "scheduled_start":
            value = check_start(value, now)
        values[field] = value
    return values


def check_reservation_channels(*, subscribe_message: bool, sms: bool, phone: str | None) -> None:
    """A reservation asks for at least one reminder; an SMS reminder needs a phone number."""
    if sms and not phone:
        raise problems.ValidationFailed("phone: required when sms is true.", errors=[
            {"field": "body.phone", "message": "required for SMS reminders", "type": "missing"}])
    if not sms and not subscribe_message:
        raise problems.ValidationFailed("Choose at least one reminder channel.", errors=[
            {"field": "body.subscribe_message", "message": "at least one of subscribe_message, sms",
             "type": "value_error"}])


def check_reservable(status: str) -> None:
    if status == lifecycle.ENDED:
        raise problems.Conflict("The room has ended; reservations are closed.", code="room_ended")


def mask_phone(phone: str) -> str:
    """What a reservation shows of a phone number: the first 3 and last 4 digits."""
    return f"{phone[:3]}****{phone[-4:]}"


@dataclass(frozen=True)
class IndexKeys:
    gsi1pk: str | None
    gsi1sk: str | None
    gsi2pk: str
    gsi2sk: str


def index_keys(*, room_id: str, host_id: str, visibility: str, status: str, scheduled_start: str,
               ended_at: str | None) -> IndexKeys:
    """Public rooms are listed by status bucket (ended ones by end time, the rest by start);
    test rooms stay out of the public lists (sparse index). Every room is listed under its host."""
    if visibility == "public":
        bucket = lifecycle.listing_bucket(status)
        order = ended_at if bucket == lifecycle.ENDED and ended_at else scheduled_start
        gsi1pk, gsi1sk = f"STATUS#{bucket}", f"{order}#{room_id}"
    else:
        gsi1pk = gsi1sk = None
    return IndexKeys(gsi1pk, gsi1sk, f"HOST#{host_id}", f"{scheduled_start}#{room_id}")


@dataclass(frozen=True)
class PastRoom:
    room_id: str
    title: str
    status: str
    visibility: str
    ended_at: str | None


def past_sessions(rooms: Iterable[PastRoom], *, current_room_id: str,
                  limit: int = PAST_SESSIONS_SHOWN) -> list[PastRoom]:
    """The host's earlier sessions an announcement shows: ended, public, not this room, in the
    order given (newest first), at most `limit`."""
    return [r for r in rooms if r.status == lifecycle.ENDED and r.visibility == "public"
            and r.room_id != current_room_id][:limit]

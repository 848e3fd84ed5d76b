"""Rooms: announcements, schedule, reservations, stream lifecycle, materials.

The public face: what other contexts may call. They get `RoomRef` (a pydantic
view), never the rooms table's items; events are in `livecommerce.rooms.events`.
The functions import the service inside so that importing this package stays
cheap (no PynamoDB or boto3: the manifest reads every context's spec,
which runs this module first).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from livecommerce.rooms.models import RoomRef

if TYPE_CHECKING:
    from livecommerce.shared.api import Caller

__all__ = ["RoomRef", "get_room", "require_room_host", "require_visible_room", "sweep_outbox"]



def get_room(room_id: str, *, consistent: bool = False) -> RoomRef | None:
    """The room, or None when there is no such room (whoever asks: callers check visibility)."""
    from livecommerce.rooms import service  # deferred: pynamodb (the realtime authorizer's cold start)

    return service.room_ref(room_id, consistent=consistent)


def require_room_host(caller: Caller, room_id: str) -> RoomRef:
    """The room when the caller runs it (its host or an operator); 404 for a test room they do not
    run, 403 for a public one."""
    from livecommerce.rooms import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.ref_of(service.require_room_host(caller, room_id))


def require_visible_room(caller: Caller | None, room_id: str) -> RoomRef:
    """The room when the caller may see it: 404 for an unknown room, or a test room they do not run."""
    from livecommerce.rooms import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.ref_of(service.load_visible(caller, room_id))


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    """Publish room events a crash left in the rooms outbox (the outbox sweeper)."""
    from livecommerce.rooms import repository  # deferred: pynamodb (cheap face for callers that need little)

    return repository.sweep_outbox(older_than_seconds=older_than_seconds)

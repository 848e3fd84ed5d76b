"""What the reminder workflow reads of rooms: reservations page by page, one reservation, its
phone (decrypted with the reservation's encryption context) and the room's title."""
from __future__ import annotations

from livecommerce.rooms import repository, service
from livecommerce.rooms.models import ReservationRef
from livecommerce.rooms.storage import ReservationItem, bind_all


def _ref(item: ReservationItem) -> ReservationRef:
    return ReservationRef(room_id=item.room_id, viewer_id=item.viewer_id, scheduled_start=item.scheduled_start,
                          subscribe_message=bool(item.subscribe_message), sms=bool(item.sms),
                          has_phone=bool(item.phone_ciphertext))


def reservations_page(room_id: str, *, after: str | None, limit: int) -> tuple[list[ReservationRef], str | None]:
    """Up to `limit` reservations in viewer order after viewer `after`; the last viewer id
    when more may follow (the cursor stays inside the workflow: a viewer id, not a key)."""
    bind_all()
    pk = f"ROOM#{room_id}"
    start = {"pk": {"S": pk}, "sk": {"S": f"RES#{after}"}} if after else None
    result = ReservationItem.query(pk, ReservationItem.sk.startswith("RES#"), limit=limit,
                                   last_evaluated_key=start)
    items = [_ref(item) for item in result]
    more = result.last_evaluated_key is not None and len(items) == limit
    return items, (items[-1].viewer_id if more and items else None)


def reservation(room_id: str, viewer_id: str) -> ReservationRef | None:
    item = repository.get_reservation(room_id, viewer_id)
    return _ref(item) if item is not None else None


def reservation_phone(room_id: str, viewer_id: str) -> str | None:
    item = repository.get_reservation(room_id, viewer_id)
    return service.decrypt_phone(item) if item is not None else None


def room_title(room_id: str) -> str | None:
    item = repository.get_room(room_id)
    return item.title if item is not None else None

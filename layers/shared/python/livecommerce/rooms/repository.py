"""Rooms data access."""
from __future__ import annotations

from typing import Iterable

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from livecommerce.rooms.storage import (MaterialItem, RoomsOutboxItem, ReservationItem, RoomItem, StreamItem,
                                        bind_all)
from livecommerce.shared import dynamo, outbox, paging, problems
from livecommerce.shared.clock import now_iso
from livecommerce.shared.tx import Tx, TxCancelled

Events = Iterable[outbox.Event]


def get_room(room_id: str, *, consistent: bool = False) -> RoomItem | None:
    bind_all()
    try:
        return RoomItem.get(*RoomItem.key(room_id), consistent_read=consistent)
    except DoesNotExist:
        return None


OUTBOX = outbox.Outbox(RoomsOutboxItem, bind=bind_all)


def _with_events(tx: Tx, room_id: str, events: Events) -> Tx:
    for item in OUTBOX.items(f"ROOM#{room_id}", events):
        tx.put("outbox", item)
    return tx


def put_new_room(room: RoomItem, events: Events) -> None:
    bind_all()
    _with_events(Tx().put("room", room, RoomItem.pk.does_not_exist()), room.room_id, events).commit()


def save_room_if_version(room: RoomItem, expected_version: int, events: Events) -> bool:
    """Write the whole room if nobody changed it since we read it (optimistic lock)."""
    bind_all()
    room.version = expected_version + 1
    room.updated_at = now_iso()
    try:
        _with_events(Tx().put("room", room, RoomItem.version == expected_version), room.room_id, events).commit()
    except TxCancelled:
        return False
    return True


def flush_outbox(room_id: str) -> int:
    bind_all()
    return OUTBOX.flush(f"ROOM#{room_id}")


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    bind_all()
    return OUTBOX.sweep(older_than_seconds=older_than_seconds)


ROOMS_BY_STATUS = paging.listing("rooms/by-status", key_attributes=("pk", "sk", "gsi1pk", "gsi1sk"),
                                  partition_attribute="gsi1pk")
RESERVATIONS_OF_VIEWER = paging.listing("rooms/reservations-of-viewer",
                                        key_attributes=("pk", "sk", "gsi2pk", "gsi2sk"),
                                        partition_attribute="gsi2pk")


def query_by_status(bucket: str, *, limit: int, cursor: str | None, newest_first: bool):
    """A public list: its cursors are bound to the status (the partition), not to a caller."""
    bind_all()
    partition = f"STATUS#{bucket}"
    start = paging.decode(cursor, ROOMS_BY_STATUS, partition=partition, owner=None)
    result = RoomItem.by_status.query(partition, limit=limit, last_evaluated_key=start,
                                      scan_index_forward=not newest_first)
    items = list(result)
    return items, paging.encode(result.last_evaluated_key, ROOMS_BY_STATUS, partition=partition, owner=None)


def rooms_of_host(host_id: str, *, limit: int = 20) -> list[RoomItem]:
    bind_all()
    return list(RoomItem.by_owner.query(f"HOST#{host_id}", limit=limit, scan_index_forward=False))


def room_ids_of_host(host_id: str, *, before: str | None, limit: int) -> list[str]:
    """The ids of the host's rooms, newest scheduled start first, at most `limit`; with `before`
    (ISO 8601) only rooms scheduled to start at or before it. Paged (DynamoDB pages of 1 MB)."""
    bind_all()
    condition = RoomItem.gsi2sk < f"{before}#~" if before else None   # '~' sorts after any room id
    ids: list[str] = []
    start = None
    while len(ids) < limit:
        result = RoomItem.by_owner.query(f"HOST#{host_id}", range_key_condition=condition, limit=limit - len(ids),
                                         scan_index_forward=False, last_evaluated_key=start)
        ids.extend(item.room_id for item in result)
        start = result.last_evaluated_key
        if not start:
            break
    return ids[:limit]


# -- reservations ---------------------------------------------------------------

def get_reservation(room_id: str, viewer_id: str) -> ReservationItem | None:
    bind_all()
    try:
        return ReservationItem.get(*ReservationItem.key(room_id, viewer_id), consistent_read=True)
    except DoesNotExist:
        return None


def add_reservation(reservation: ReservationItem, events: Events) -> bool:
    """Insert the reservation and count it, atomically. False if the viewer had one already."""
    bind_all()
    room = RoomItem(*RoomItem.key(reservation.room_id))
    tx = Tx().put("reservation", reservation, ReservationItem.pk.does_not_exist()) \
        .update("count", room, [RoomItem.reservation_count.add(1)],
                RoomItem.pk.exists() & RoomItem.status.is_in("scheduled", "live", "interrupted"))
    try:
        _with_events(tx, reservation.room_id, events).commit()
    except TxCancelled as exc:
        if "reservation" in exc:
            return False
        raise problems.Conflict("The room has ended; reservations are closed.", code="room_ended") from exc
    return True


def update_reservation_consent(reservation: ReservationItem) -> None:
    try:
        reservation.save(condition=ReservationItem.pk.exists())
    except PutError as exc:
        dynamo.raise_if_retryable(exc)
        raise


def remove_reservation(room_id: str, viewer_id: str, events: Events) -> bool:
    """Delete the reservation and uncount it, atomically. False if the viewer had none."""
    bind_all()
    reservation = ReservationItem(*ReservationItem.key(room_id, viewer_id))
    room = RoomItem(*RoomItem.key(room_id))
    tx = Tx().delete("reservation", reservation, ReservationItem.pk.exists()) \
        .update("count", room, [RoomItem.reservation_count.add(-1)],
                RoomItem.pk.exists() & (RoomItem.reservation_count > 0))
    try:
        _with_events(tx, room_id, events).commit()
    except TxCancelled as exc:
        if "reservation" in exc:
            return False
        raise
    return True


def reservations_of_viewer(viewer_id: str, *, limit: int, cursor: str | None):
    bind_all()
    partition = f"RESERVER#{viewer_id}"
    start = paging.decode(cursor, RESERVATIONS_OF_VIEWER, partition=partition, owner=viewer_id)
    result = ReservationItem.by_owner.query(partition, limit=limit, last_evaluated_key=start)
    return list(result), paging.encode(result.last_evaluated_key, RESERVATIONS_OF_VIEWER, partition=partition,
                                       owner=viewer_id)


def reservations_of_room(room_id: str) -> Iterable[ReservationItem]:
    bind_all()
    return ReservationItem.query(f"ROOM#{room_id}", ReservationItem.sk.startswith("RES#"))


def update_reservation_times(room_id: str, scheduled_start: str) -> int:
    """Keep each reservation's copy of the start time (the reminder reads it) in step."""
    changed = 0
    for reservation in reservations_of_room(room_id):
        reservation.update(actions=[ReservationItem.scheduled_start.set(scheduled_start),
                                    ReservationItem.gsi2sk.set(f"{scheduled_start}#{room_id}")])
        changed += 1
    return changed


# -- stream facts ---------------------------------------------------------------

def record_stream_fact(room_id: str, stream_id: str, field: str, at: str) -> None:
    """Remember when a stream started / ended / failed; the first report of each wins."""
    bind_all()
    item = StreamItem(*StreamItem.key(room_id, stream_id))
    attribute = getattr(StreamItem, field)
    try:
        item.update(actions=[StreamItem.stream_id.set(stream_id),
                             attribute.set(attribute | at)])  # if_not_exists: duplicates change nothing
    except UpdateError as exc:
        dynamo.raise_if_retryable(exc)
        raise


def stream_facts(room_id: str) -> list[StreamItem]:
    bind_all()
    return list(StreamItem.query(f"ROOM#{room_id}", StreamItem.sk.startswith("STREAM#"), consistent_read=True))


# -- materials ------------------------------------------------------------------

def put_material(item: MaterialItem) -> None:
    bind_all()
    item.save(condition=MaterialItem.pk.does_not_exist())


def materials(room_id: str) -> list[MaterialItem]:
    bind_all()
    return list(MaterialItem.query(f"ROOM#{room_id}", MaterialItem.sk.startswith("MATERIAL#")))

"""PynamoDB items of the rooms table.

  ROOM#<id>   META              the room; gsi1 (public rooms by status), gsi2 (by host)
  ROOM#<id>   RES#<viewer>      a reservation; gsi2 (a viewer's reservations)
  ROOM#<id>   STREAM#<stream>   facts about one IVS stream (start / end event times)
  ROOM#<id>   MATERIAL#<id>     an uploaded script, image, video or slide deck
  ROOM#<id>   OUTBOX#<ulid>     a domain event written with the change that caused it
"""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute,
                                 UnicodeAttribute)

from livecommerce.shared import dynamo
from livecommerce.shared.outbox import OutboxItem
from livecommerce.rooms.spec import ROOMS
from livecommerce.shared.storage import KeyedItem as _Base, Gsi1Index as ByStatusIndex, Gsi2Index as ByOwnerIndex


class RoomItem(_Base):
    class Meta:
        table_name = "unbound"

    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    by_status = ByStatusIndex()
    by_owner = ByOwnerIndex()

    room_id = UnicodeAttribute()
    host_id = UnicodeAttribute()
    title = UnicodeAttribute()
    topic = UnicodeAttribute(null=True)
    highlights = ListAttribute(of=UnicodeAttribute, default=list)
    host_intro = UnicodeAttribute(null=True)
    cover = UnicodeAttribute(null=True)
    # An uploaded cover (rooms.covers): its key in the private materials bucket; the room view
    # shows a fresh presigned link to it instead of `cover`.
    cover_key = UnicodeAttribute(null=True)
    # Its public copy's key (covers/<room>/<upload>, rooms.public_covers), once copied for a public room:
    # the view of a public room links the CDN URL of that instead.
    cover_public_key = UnicodeAttribute(null=True)
    visibility = UnicodeAttribute()
    scheduled_start = UnicodeAttribute()
    status = UnicodeAttribute()
    reservation_count = NumberAttribute(default=0)
    channel_arn = UnicodeAttribute(null=True)
    channel_name = UnicodeAttribute(null=True)
    ingest_endpoint = UnicodeAttribute(null=True)
    playback_url = UnicodeAttribute(null=True)
    host_started_at = UnicodeAttribute(null=True)
    host_ended_at = UnicodeAttribute(null=True)
    recording_ended_at = UnicodeAttribute(null=True)
    # A planned switch's window (lifecycle.open_switch_window): stream ends inside it do not interrupt.
    switch_from = UnicodeAttribute(null=True)
    switch_until = UnicodeAttribute(null=True)
    recording = JSONAttribute(null=True)
    started_at = UnicodeAttribute(null=True)
    interrupted_at = UnicodeAttribute(null=True)
    ended_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=0)

    @staticmethod
    def key(room_id: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", "META"


class ReservationItem(_Base):
    class Meta:
        table_name = "unbound"

    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    by_owner = ByOwnerIndex()
    room_id = UnicodeAttribute()
    viewer_id = UnicodeAttribute()
    subscribe_message = BooleanAttribute(default=False)
    sms = BooleanAttribute(default=False)
    phone_ciphertext = UnicodeAttribute(null=True)
    phone_masked = UnicodeAttribute(null=True)
    scheduled_start = UnicodeAttribute()
    reminded = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str, viewer_id: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", f"RES#{viewer_id}"


class StreamItem(_Base):
    class Meta:
        table_name = "unbound"

    stream_id = UnicodeAttribute()
    started_at = UnicodeAttribute(null=True)
    ended_at = UnicodeAttribute(null=True)
    failed_at = UnicodeAttribute(null=True)

    @staticmethod
    def key(room_id: str, stream_id: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", f"STREAM#{stream_id}"


class MaterialItem(_Base):
    class Meta:
        table_name = "unbound"

    material_id = UnicodeAttribute()
    room_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size_bytes = NumberAttribute()
    s3_key = UnicodeAttribute()
    uploaded_by = UnicodeAttribute()
    created_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str, material_id: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", f"MATERIAL#{material_id}"


class RoomsOutboxItem(OutboxItem):
    """The one outbox item (livecommerce.shared.outbox), bound to this table."""

    class Meta:
        table_name = "unbound"


MODELS = (RoomItem, ReservationItem, StreamItem, MaterialItem, RoomsOutboxItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, ROOMS)

"""PynamoDB items of replays (in the media table; key patterns in media/spec.py).

  REC#<recording id>   META                 one recording's processing: room, prefix, state
                                            (processing | ready | missing_recording | recording_failed |
                                            unknown_room | failed), claimed by a conditional write
  REPLAY#<room>        META                 the room's replay: playlist, duration, thumbnails, timeline
                                            (the latest-started recording wins, by a conditional write)
  REPLAY#<room>        CLIP#<clip id>       a clip: per product (made by the replay machine) or cut by a host
  MARKS#<room>         <at>#<kind>#<ref>    a moment of the room (listing, flash sale, coupon drop, lottery)
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from livecommerce.media.spec import MEDIA
from livecommerce.shared import dynamo
from livecommerce.shared.storage import KeyedItem as _Base


class RecordingItem(_Base):
    class Meta:
        table_name = "unbound"

    prefix = UnicodeAttribute()
    bucket = UnicodeAttribute()
    room_id = UnicodeAttribute(null=True)
    channel_arn = UnicodeAttribute(null=True)
    state = UnicodeAttribute()
    run = UnicodeAttribute(null=True)            # the execution that holds the claim
    detail = UnicodeAttribute(null=True)         # why it is not ready (visible outcome)
    runs = NumberAttribute(default=0)
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(recording_id: str) -> tuple[str, str]:
        return f"REC#{recording_id}", "META"


class ReplayItem(_Base):
    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    state = UnicodeAttribute()                   # ready | missing_recording | recording_failed | failed
    prefix = UnicodeAttribute()
    bucket = UnicodeAttribute()
    recording_started_at = UnicodeAttribute()
    recording_ended_at = UnicodeAttribute(null=True)
    duration_ms = NumberAttribute(default=0)
    master_key = UnicodeAttribute(null=True)
    renditions = JSONAttribute(null=True)        # [{path, playlist, width, height, key}]
    thumbnails = JSONAttribute(null=True)        # [key]
    timeline = JSONAttribute(null=True)          # [TimelineEntry.as_dict()]
    detail = UnicodeAttribute(null=True)
    ready_at = UnicodeAttribute(null=True)
    recording_end_event_at = UnicodeAttribute(null=True)

    @staticmethod
    def key(room_id: str) -> tuple[str, str]:
        return f"REPLAY#{room_id}", "META"


class ClipItem(_Base):
    class Meta:
        table_name = "unbound"

    clip_id = UnicodeAttribute()
    room_id = UnicodeAttribute()
    kind = UnicodeAttribute()                    # product | host
    product_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    start_seconds = NumberAttribute()
    end_seconds = NumberAttribute()
    master_key = UnicodeAttribute()
    prefix = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str, clip_id: str) -> tuple[str, str]:
        return f"REPLAY#{room_id}", f"CLIP#{clip_id}"


class MarkItem(_Base):
    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    at = UnicodeAttribute()
    kind = UnicodeAttribute()
    ref_id = UnicodeAttribute()
    product_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    price = NumberAttribute(null=True)

    @staticmethod
    def key(room_id: str, at: str, kind: str, ref_id: str) -> tuple[str, str]:
        return f"MARKS#{room_id}", f"{at}#{kind}#{ref_id}"


MODELS = (RecordingItem, ReplayItem, ClipItem, MarkItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, MEDIA)

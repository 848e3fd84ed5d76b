"""PynamoDB items of the media table (key patterns in media/spec.py)."""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from livecommerce.media.spec import MEDIA
from livecommerce.shared import dynamo
from livecommerce.shared.outbox import OutboxItem
from livecommerce.shared.storage import KeyedItem as _Base


class StageItem(_Base):
    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    host_id = UnicodeAttribute()
    stage_arn = UnicodeAttribute(null=True)              # set once, by a conditional write
    rtmps_endpoint = UnicodeAttribute(null=True)
    whip_endpoint = UnicodeAttribute(null=True)
    host_participant_id = UnicodeAttribute(null=True)    # the host's latest token (PK replication source)
    layout = UnicodeAttribute(default="off")             # grid | pip | off
    composition_arn = UnicodeAttribute(null=True)
    composition_state = UnicodeAttribute(default="stopped")
    on_stage = NumberAttribute(default=0)                # guests publishing (host not counted)
    pending = NumberAttribute(default=0)
    pk_id = UnicodeAttribute(null=True)                  # the running PK
    ended = UnicodeAttribute(null=True)                  # the room ended: no more seats, stage deleted
    created_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str) -> tuple[str, str]:
        return f"STAGE#{room_id}", "META"


class SeatItem(_Base):
    class Meta:
        table_name = "unbound"

    seat_id = UnicodeAttribute()
    room_id = UnicodeAttribute()
    kind = UnicodeAttribute()                            # application | invitation
    user_id = UnicodeAttribute()
    display_name = UnicodeAttribute()
    state = UnicodeAttribute()                           # pending | on_stage | muted | ended
    participant_id = UnicodeAttribute(null=True)         # the latest token issued to this seat
    participant_ids = UnicodeSetAttribute(null=True)     # every token issued to it (all disconnected on mute/remove)
    reason = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str, seat_id: str) -> tuple[str, str]:
        return f"STAGE#{room_id}", f"SEAT#{seat_id}"


class ParticipantItem(_Base):
    """A stage participant id -> its room and seat (IVS stage events name participants)."""

    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    seat_id = UnicodeAttribute()                         # "host" for the host
    user_id = UnicodeAttribute()
    expires_at = NumberAttribute()

    @staticmethod
    def key(participant_id: str) -> tuple[str, str]:
        return f"PART#{participant_id}", "META"


class PkItem(_Base):
    class Meta:
        table_name = "unbound"

    pk_id = UnicodeAttribute()
    room_a = UnicodeAttribute()
    room_b = UnicodeAttribute()
    rule = UnicodeAttribute()                            # likes | sales
    state = UnicodeAttribute()                           # running | ended
    started_at = UnicodeAttribute()
    ends_at = UnicodeAttribute()
    ends_epoch = NumberAttribute()
    baseline_a = NumberAttribute(default=0)              # like totals at the start
    baseline_b = NumberAttribute(default=0)
    score_a = NumberAttribute(default=0)
    score_b = NumberAttribute(default=0)
    published_a = NumberAttribute(null=True)             # the scores last broadcast
    published_b = NumberAttribute(null=True)
    published_ms = NumberAttribute(null=True)
    replication = JSONAttribute(null=True)               # [[source stage, destination stage, participant], ...]
    outcome = UnicodeAttribute(null=True)                # a_won | b_won | draw | cancelled
    expires_at = NumberAttribute()

    @staticmethod
    def key(pk_id: str) -> tuple[str, str]:
        return f"PK#{pk_id}", "META"


class PkOrderItem(_Base):
    class Meta:
        table_name = "unbound"

    expires_at = NumberAttribute()

    @staticmethod
    def key(pk_id: str, order_id: str) -> tuple[str, str]:
        return f"PK#{pk_id}", f"ORDER#{order_id}"


class MediaOutboxItem(OutboxItem):
    class Meta:
        table_name = "unbound"


MODELS = (StageItem, SeatItem, ParticipantItem, PkItem, PkOrderItem, MediaOutboxItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, MEDIA)

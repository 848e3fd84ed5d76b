"""Media data access: stages, seats, participants, PK windows, the outbox."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from livecommerce.media.storage import (MediaOutboxItem, ParticipantItem, PkItem, PkOrderItem, SeatItem, StageItem,
                                        bind_all)
from livecommerce.shared import dynamo, outbox

OUTBOX = outbox.Outbox(MediaOutboxItem, shards=4, bind=bind_all)
outbox_items = OUTBOX.items
flush_outbox = OUTBOX.flush
sweep_outbox = OUTBOX.sweep


def conditional_failed(exc: Exception) -> bool:
    return dynamo.error_code(exc) == "ConditionalCheckFailedException"


def _get(model, key, consistent=True):
    bind_all()
    try:
        return model.get(*key, consistent_read=consistent)
    except DoesNotExist:
        return None


def get_stage(room_id: str) -> StageItem | None:
    return _get(StageItem, StageItem.key(room_id))


def get_seat(room_id: str, seat_id: str) -> SeatItem | None:
    return _get(SeatItem, SeatItem.key(room_id, seat_id))


def seats(room_id: str) -> list[SeatItem]:
    bind_all()
    return list(SeatItem.query(f"STAGE#{room_id}", SeatItem.sk.startswith("SEAT#"), consistent_read=True))


def get_pk(pk_id: str) -> PkItem | None:
    return _get(PkItem, PkItem.key(pk_id))


def get_participant(participant_id: str) -> ParticipantItem | None:
    return _get(ParticipantItem, ParticipantItem.key(participant_id))


def ensure_stage_item(room_id: str, host_id: str, now: str) -> StageItem:
    """The room's stage item, created on first use (a conditional put: two creators agree)."""
    found = get_stage(room_id)
    if found is not None:
        return found
    item = StageItem(*StageItem.key(room_id), room_id=room_id, host_id=host_id, created_at=now)
    try:
        item.save(StageItem.pk.does_not_exist())
    except PutError as exc:
        if not conditional_failed(exc):
            raise
    return get_stage(room_id)


def set_stage_arn(room_id: str, arn: str, rtmps: str, whip: str) -> bool:
    """Store the stage ARN once: False when another caller stored theirs first."""
    item = StageItem(*StageItem.key(room_id))
    try:
        item.update(actions=[StageItem.stage_arn.set(arn), StageItem.rtmps_endpoint.set(rtmps),
                             StageItem.whip_endpoint.set(whip)],
                    condition=StageItem.stage_arn.does_not_exist() & StageItem.ended.does_not_exist())
    except UpdateError as exc:
        if conditional_failed(exc):
            return False
        raise
    return True


def remember_participant(participant_id: str, room_id: str, seat_id: str, user_id: str, expires_at: int) -> None:
    bind_all()
    ParticipantItem(*ParticipantItem.key(participant_id), room_id=room_id, seat_id=seat_id, user_id=user_id,
                    expires_at=expires_at).save()

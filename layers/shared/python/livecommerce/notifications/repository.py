"""Notifications data access: conditional writes that make every send happen at most once."""
from __future__ import annotations

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from livecommerce.notifications import rules
from livecommerce.notifications.storage import (CapItem, ConsentGrantItem, ConsentUseItem, HostPreviewItem,
                                                NoticeRunItem, RoomNoticesItem, RunItem, SendRecordItem,
                                                SettingsItem, bind_all)
from livecommerce.shared import dynamo


def _conditional_failed(exc: Exception) -> bool:
    return dynamo.error_code(exc) == "ConditionalCheckFailedException"


def get_send(kind: str, reason: str, user_id: str) -> SendRecordItem | None:
    bind_all()
    try:
        return SendRecordItem.get(*SendRecordItem.key(kind, reason, user_id), consistent_read=True)
    except DoesNotExist:
        return None


def claim_send(*, kind: str, reason: str, room_id: str | None, user_id: str, now: str) -> tuple[bool, SendRecordItem]:
    """Claim the right to send this notice: True with the record when this call may send
    (a first attempt, or one after a retryable failure); False with the record as it is
    when another attempt sent it, is sending it or settled it."""
    bind_all()
    record = SendRecordItem(*SendRecordItem.key(kind, reason, user_id), kind=kind, reason=reason, room_id=room_id,
                            user_id=user_id, outcome=rules.SENDING, attempts=1, created_at=now, updated_at=now)
    try:
        record.save(condition=SendRecordItem.pk.does_not_exist())
        return True, record
    except PutError as exc:
        if not _conditional_failed(exc):
            dynamo.raise_if_retryable(exc)
            raise
    existing = get_send(kind, reason, user_id)
    if existing is None:                       # deleted in between: nothing deletes records, but be safe
        return claim_send(kind=kind, reason=reason, room_id=room_id, user_id=user_id, now=now)
    if existing.outcome != rules.RETRYING:
        return False, existing
    try:
        existing.update(actions=[SendRecordItem.outcome.set(rules.SENDING), SendRecordItem.attempts.add(1),
                                 SendRecordItem.updated_at.set(now)],
                        condition=SendRecordItem.outcome == rules.RETRYING)
        return True, existing
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise
    return False, get_send(kind, reason, user_id) or existing


def settle_send(record: SendRecordItem, *, outcome: str, channel: str | None, now: str,
                provider_code: str | None = None, provider_message: str | None = None) -> None:
    """Write what became of a claimed send (only while it is still ours: outcome == sending)."""
    actions = [SendRecordItem.outcome.set(outcome), SendRecordItem.updated_at.set(now)]
    actions.append(SendRecordItem.channel.set(channel) if channel else SendRecordItem.channel.remove())
    for attribute, value in ((SendRecordItem.provider_code, provider_code),
                             (SendRecordItem.provider_message, provider_message)):
        actions.append(attribute.set(value) if value else attribute.remove())
    record.update(actions=actions, condition=SendRecordItem.outcome == rules.SENDING)


def use_subscribe_consent(*, reason: str, user_id: str, kind: str, now: str) -> bool:
    """Take the reservation's one-time subscribe-message consent; False when a notice took it."""
    bind_all()
    try:
        ConsentUseItem(*ConsentUseItem.key(reason, user_id), kind=kind, used_at=now).save(
            condition=ConsentUseItem.pk.does_not_exist())
        return True
    except PutError as exc:
        if _conditional_failed(exc):
            return False
        raise


def subscribe_consent_used(reason: str, user_id: str) -> bool:
    bind_all()
    try:
        ConsentUseItem.get(*ConsentUseItem.key(reason, user_id), consistent_read=True)
        return True
    except DoesNotExist:
        return False


def give_back_subscribe_consent(reason: str, user_id: str) -> None:
    """The provider did not deliver (a retryable failure): the consent is still the user's."""
    bind_all()
    try:
        ConsentUseItem(*ConsentUseItem.key(reason, user_id)).delete()
    except DeleteError:
        pass


def take_cap(user_id: str, day: str, *, cap: int, expires_at: int) -> bool:
    """Count one notice against the user's day; False when the day's cap is reached."""
    bind_all()
    item = CapItem(*CapItem.key(user_id, day))
    try:
        item.update(actions=[CapItem.count.add(1), CapItem.expires_at.set(expires_at)],
                    condition=CapItem.pk.does_not_exist() | (CapItem.count < cap))
        return True
    except UpdateError as exc:
        if _conditional_failed(exc):
            return False
        raise


def give_back_cap(user_id: str, day: str) -> None:
    bind_all()
    try:
        CapItem(*CapItem.key(user_id, day)).update(actions=[CapItem.count.add(-1)],
                                                   condition=CapItem.count > 0)
    except UpdateError:
        pass


def get_user_settings(user_id: str) -> SettingsItem | None:
    bind_all()
    try:
        return SettingsItem.get(*SettingsItem.key(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def put_user_settings(item: SettingsItem) -> None:
    bind_all()
    item.save()


def put_run(item: RunItem) -> None:
    bind_all()
    item.save()


def get_run(kind: str, reason: str) -> RunItem | None:
    bind_all()
    try:
        return RunItem.get(*RunItem.key(kind, reason), consistent_read=True)
    except DoesNotExist:
        return None


def sends_of(kind: str, reason: str) -> list[SendRecordItem]:
    bind_all()
    return list(SendRecordItem.query(f"SEND#{kind}#{reason}"))


# ------------------------------------------------------------ post-live notices

def add_consent_grants(user_id: str, kind: str, count: int, now: str) -> int:
    """The user accepted `count` one-time subscribe messages of `kind`: the grants left."""
    bind_all()
    item = ConsentGrantItem(*ConsentGrantItem.key(user_id, kind))
    item.update(actions=[ConsentGrantItem.remaining.add(count), ConsentGrantItem.user_id.set(user_id),
                         ConsentGrantItem.kind.set(kind), ConsentGrantItem.granted_at.set(now),
                         ConsentGrantItem.revoked_at.remove()])
    return int(item.remaining)


def revoke_consent_grants(user_id: str, kind: str, now: str) -> None:
    bind_all()
    ConsentGrantItem(*ConsentGrantItem.key(user_id, kind)).update(actions=[
        ConsentGrantItem.remaining.set(0), ConsentGrantItem.user_id.set(user_id), ConsentGrantItem.kind.set(kind),
        ConsentGrantItem.revoked_at.set(now)])


def consent_grants(user_id: str) -> list[ConsentGrantItem]:
    bind_all()
    return list(ConsentGrantItem.query(f"GRANT#{user_id}", consistent_read=True))


def grants_left(user_id: str, kind: str) -> int:
    bind_all()
    try:
        return int(ConsentGrantItem.get(*ConsentGrantItem.key(user_id, kind), consistent_read=True).remaining)
    except DoesNotExist:
        return 0


def take_consent_grant(user_id: str, kind: str) -> bool:
    """Use one of the user's one-time consents of the kind; False when none is left."""
    bind_all()
    try:
        ConsentGrantItem(*ConsentGrantItem.key(user_id, kind)).update(
            actions=[ConsentGrantItem.remaining.add(-1)], condition=ConsentGrantItem.remaining > 0)
        return True
    except UpdateError as exc:
        if _conditional_failed(exc):
            return False
        raise


def give_back_consent_grant(user_id: str, kind: str) -> None:
    """The provider did not deliver (retryable): the consent is still the user's (unless revoked since)."""
    bind_all()
    try:
        ConsentGrantItem(*ConsentGrantItem.key(user_id, kind)).update(
            actions=[ConsentGrantItem.remaining.add(1)],
            condition=ConsentGrantItem.pk.exists() & ConsentGrantItem.revoked_at.does_not_exist())
    except UpdateError:
        pass


def get_room_notices(room_id: str) -> RoomNoticesItem | None:
    bind_all()
    try:
        return RoomNoticesItem.get(*RoomNoticesItem.key(room_id), consistent_read=True)
    except DoesNotExist:
        return None


def update_room_notices(room_id: str, now: str, **fields: str | None) -> RoomNoticesItem:
    """Set some of the room's post-live fields (others are kept); the item as it is after."""
    bind_all()
    item = RoomNoticesItem(*RoomNoticesItem.key(room_id))
    actions = [RoomNoticesItem.room_id.set(room_id), RoomNoticesItem.updated_at.set(now)]
    for name, value in fields.items():
        attribute = getattr(RoomNoticesItem, name)
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    item.update(actions=actions)
    return item


def get_host_preview(host_id: str) -> HostPreviewItem | None:
    bind_all()
    try:
        return HostPreviewItem.get(*HostPreviewItem.key(host_id), consistent_read=True)
    except DoesNotExist:
        return None


def put_host_preview(item: HostPreviewItem) -> None:
    bind_all()
    item.save()


def get_notice_run(room_id: str, kind: str) -> NoticeRunItem | None:
    bind_all()
    try:
        return NoticeRunItem.get(*NoticeRunItem.key(room_id, kind), consistent_read=True)
    except DoesNotExist:
        return None


def notice_runs(room_id: str) -> list[NoticeRunItem]:
    bind_all()
    return list(NoticeRunItem.query(f"NOTICES#{room_id}", consistent_read=True))


def start_notice_run(room_id: str, kind: str, now: str, **fields: object) -> None:
    bind_all()
    actions = [NoticeRunItem.room_id.set(room_id), NoticeRunItem.kind.set(kind),
               NoticeRunItem.outcome.set("running"), NoticeRunItem.started_at.set(now),
               NoticeRunItem.updated_at.set(now)]
    for name, value in fields.items():
        attribute = getattr(NoticeRunItem, name)
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    NoticeRunItem(*NoticeRunItem.key(room_id, kind)).update(actions=actions)


def skip_notice_run(room_id: str, kind: str, now: str, detail: str) -> None:
    bind_all()
    NoticeRunItem(*NoticeRunItem.key(room_id, kind)).update(actions=[
        NoticeRunItem.room_id.set(room_id), NoticeRunItem.kind.set(kind), NoticeRunItem.outcome.set("skipped"),
        NoticeRunItem.detail.set(detail), NoticeRunItem.updated_at.set(now)])


def complete_notice_run(room_id: str, kind: str, now: str, counts: dict[str, int]) -> NoticeRunItem:
    """Add this run's counts (a repeated run adds only duplicates, which are not counted as sends)."""
    bind_all()
    item = NoticeRunItem(*NoticeRunItem.key(room_id, kind))
    actions = [NoticeRunItem.room_id.set(room_id), NoticeRunItem.kind.set(kind),
               NoticeRunItem.outcome.set("completed"), NoticeRunItem.completed_at.set(now),
               NoticeRunItem.updated_at.set(now), NoticeRunItem.runs.add(1)]
    for name in ("audience", "sent", "skipped_consent", "skipped", "failed", "duplicate"):
        actions.append(getattr(NoticeRunItem, name).add(int(counts.get(name, 0))))
    item.update(actions=actions)
    return item

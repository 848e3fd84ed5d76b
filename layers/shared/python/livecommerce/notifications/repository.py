"""Notifications data access: conditional writes that make every send happen at most once."""
from __future__ import annotations

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from livecommerce.notifications import rules
from livecommerce.notifications.storage import (CapItem, ConsentUseItem, RunItem, SendRecordItem, SettingsItem,
                                                bind_all)
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

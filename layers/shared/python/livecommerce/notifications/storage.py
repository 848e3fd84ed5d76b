"""PynamoDB items of the notifications table.

  SEND#<kind>#<reason>     USER#<user>     one notice for one reason to one user: channel, outcome,
                                           provider error code (written before the provider is called)
  CONSENT#<reason>         USER#<user>     the one-time subscribe-message consent of a reservation, used
  CAP#<user>               DAY#<yyyy-mm-dd>  notices sent to a user that day (the frequency cap); expires
  USER#<user>              SETTINGS        what the viewer unsubscribed from
  RUN#<kind>#<reason>      RUN             one run of a notice's state machine: its outcome and counts
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from livecommerce.notifications.spec import NOTIFICATIONS
from livecommerce.shared import dynamo
from livecommerce.shared.storage import KeyedItem as _Base


class SendRecordItem(_Base):
    class Meta:
        table_name = "unbound"

    kind = UnicodeAttribute()
    reason = UnicodeAttribute()
    room_id = UnicodeAttribute(null=True)
    user_id = UnicodeAttribute()
    channel = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()
    provider_code = UnicodeAttribute(null=True)
    provider_message = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(kind: str, reason: str, user_id: str) -> tuple[str, str]:
        return f"SEND#{kind}#{reason}", f"USER#{user_id}"


class ConsentUseItem(_Base):
    class Meta:
        table_name = "unbound"

    kind = UnicodeAttribute()
    used_at = UnicodeAttribute()

    @staticmethod
    def key(reason: str, user_id: str) -> tuple[str, str]:
        return f"CONSENT#{reason}", f"USER#{user_id}"


class CapItem(_Base):
    class Meta:
        table_name = "unbound"

    count = NumberAttribute(default=0)
    expires_at = NumberAttribute()

    @staticmethod
    def key(user_id: str, day: str) -> tuple[str, str]:
        return f"CAP#{user_id}", f"DAY#{day}"


class SettingsItem(_Base):
    class Meta:
        table_name = "unbound"

    user_id = UnicodeAttribute()
    subscribe_message = BooleanAttribute(default=True)
    sms = BooleanAttribute(default=True)
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", "SETTINGS"


class RunItem(_Base):
    class Meta:
        table_name = "unbound"

    kind = UnicodeAttribute()
    reason = UnicodeAttribute()
    room_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)
    sent = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(kind: str, reason: str) -> tuple[str, str]:
        return f"RUN#{kind}#{reason}", "RUN"


MODELS = (SendRecordItem, ConsentUseItem, CapItem, SettingsItem, RunItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, NOTIFICATIONS)

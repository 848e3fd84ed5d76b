"""PynamoDB items of the notifications table.

  SEND#<kind>#<reason>     USER#<user>     one notice for one reason to one user: channel, outcome,
                                           provider error code (written before the provider is called)
  CONSENT#<reason>         USER#<user>     the one-time subscribe-message consent of a reservation, used
  CAP#<user>               DAY#<yyyy-mm-dd>  notices sent to a user that day (the frequency cap); expires
  USER#<user>              SETTINGS        what the viewer unsubscribed from
  RUN#<kind>#<reason>      RUN             one run of a notice's state machine: its outcome and counts
  GRANT#<user>             KIND#<kind>     one-time subscribe-message consents the user gave for a kind (left)
  ROOM#<room>              NOTICES         the host's post-live choices (coupon template) and the room's
                                           post-live facts (ended, replay ready and its link)
  HOST#<host>              PREVIEW         the host's preview audience rule (tags)
  NOTICES#<room>           KIND#<kind>     the room's notice runs per kind: counts, replay linked or not
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

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


class ConsentGrantItem(_Base):
    """WeChat's one-time subscribe: each acceptance of wx.requestSubscribeMessage for a template
    allows one message of it; `remaining` counts them (taken by a send, given back when the
    provider did not deliver, zeroed by a revocation)."""

    class Meta:
        table_name = "unbound"

    user_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    remaining = NumberAttribute(default=0)
    granted_at = UnicodeAttribute(null=True)
    revoked_at = UnicodeAttribute(null=True)

    @staticmethod
    def key(user_id: str, kind: str) -> tuple[str, str]:
        return f"GRANT#{user_id}", f"KIND#{kind}"


class RoomNoticesItem(_Base):
    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    coupon_template_id = UnicodeAttribute(null=True)     # the host's choice for the non-buyer notice
    settings_by = UnicodeAttribute(null=True)
    ended_at = UnicodeAttribute(null=True)
    replay_url = UnicodeAttribute(null=True)
    replay_ready_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", "NOTICES"


class HostPreviewItem(_Base):
    class Meta:
        table_name = "unbound"

    host_id = UnicodeAttribute()
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(host_id: str) -> tuple[str, str]:
        return f"HOST#{host_id}", "PREVIEW"


class NoticeRunItem(_Base):
    """A room's notice run of one kind. Counts add up over runs of the same reason (a repeated
    run finds every recipient settled: it adds nothing); `runs` counts the runs."""

    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    outcome = UnicodeAttribute()                  # running, completed, skipped
    detail = UnicodeAttribute(null=True)          # why skipped; replay_missing when sent without the link
    replay_linked = BooleanAttribute(null=True)
    coupon_template_id = UnicodeAttribute(null=True)
    audience = NumberAttribute(default=0)
    sent = NumberAttribute(default=0)
    skipped_consent = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)          # other skips: frequency cap, no address, not a follower
    failed = NumberAttribute(default=0)
    duplicate = NumberAttribute(default=0)
    runs = NumberAttribute(default=0)
    started_at = UnicodeAttribute(null=True)
    completed_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str, kind: str) -> tuple[str, str]:
        return f"NOTICES#{room_id}", f"KIND#{kind}"


MODELS = (SendRecordItem, ConsentUseItem, CapItem, SettingsItem, RunItem, ConsentGrantItem, RoomNoticesItem,
          HostPreviewItem, NoticeRunItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, NOTIFICATIONS)

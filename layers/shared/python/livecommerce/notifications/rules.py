"""Pure rules of notifications: which channel a notice goes by, the frequency cap, the
reminder schedules' names and times, and what a provider's answer means. No I/O."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from livecommerce.notifications.templates import REMINDER_KINDS

# Channels
SUBSCRIBE = "subscribe_message"      # WeChat subscribe message or Alipay template message (by login provider)
SMS = "sms"
CHANNELS = (SUBSCRIBE, SMS)

# Outcomes of one send (the send record's `outcome`)
SENT = "sent"
FAILED = "failed"                    # the provider refused for good (after the retries)
RETRYING = "retrying"                # a retryable failure; the state machine tries again
SENDING = "sending"                  # claimed; a crash here leaves it: never sent again (at most once)
SKIPPED_CONSENT = "skipped_consent"              # no consent for any channel, or unsubscribed
SKIPPED_CONSENT_REVOKED = "skipped_consent_revoked"   # the provider says the user refused (43101)
SKIPPED_CAP = "skipped_frequency_cap"
SKIPPED_NO_RECIPIENT = "skipped_no_recipient"    # no openid / Alipay id / phone to send to
SKIPPED_NOT_RESERVED = "skipped_not_reserved"    # the reservation was cancelled or moved meanwhile
FINAL_OUTCOMES = (SENT, FAILED, SKIPPED_CONSENT, SKIPPED_CONSENT_REVOKED, SKIPPED_CAP, SKIPPED_NO_RECIPIENT,
                  SKIPPED_NOT_RESERVED)

# Per-user frequency cap: at most this many notices per user per UTC day, whatever the kind.
DAILY_CAP = 5

# Reminder schedules: one per room and purpose, at these offsets from the scheduled start.
REMINDER_OFFSETS: dict[str, timedelta] = {"reminder_15min": timedelta(minutes=-15), "live_now": timedelta(0)}
assert tuple(REMINDER_OFFSETS) == REMINDER_KINDS


@dataclass(frozen=True)
class Consent:
    """What a reservation and the viewer's settings allow."""
    subscribe_message: bool          # one-time subscribe-message consent given when reserving
    sms: bool
    has_phone: bool
    unsubscribed_subscribe: bool = False
    unsubscribed_sms: bool = False


def channel_for(consent: Consent, *, subscribe_consent_used: bool) -> str | None:
    """The channel one notice goes by, or None when the viewer allows none.

    A subscribe-message consent is one-time (WeChat: one message per acceptance), so it
    carries the first notice of a reservation; a later one (live_now after reminder_15min)
    goes by SMS when the viewer allowed SMS. SMS needs a phone. Unsubscribing wins."""
    if consent.subscribe_message and not consent.unsubscribed_subscribe and not subscribe_consent_used:
        return SUBSCRIBE
    if consent.sms and consent.has_phone and not consent.unsubscribed_sms:
        return SMS
    return None


def reason_key(room_id: str, scheduled_start: str) -> str:
    """The reason a reminder is sent: the room and its start time. A rescheduled room
    reminds again (another start); a retried or duplicated run does not."""
    return f"{room_id}#{scheduled_start}"


def day_of(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d")


def under_cap(count_today: int, cap: int = DAILY_CAP) -> bool:
    return count_today < cap


# --------------------------------------------------------------- schedules

_ID = re.compile(r"^[0-9A-Za-z_-]{1,40}$")


def schedule_name(room_id: str, kind: str) -> str:
    """Deterministic: creating it twice is a conflict, not a second reminder; moving and
    deleting find it without a lookup. Schedule names allow [0-9a-zA-Z-_.], 1 to 64."""
    if not _ID.match(room_id):
        raise ValueError("room id is not a schedule-name fragment")
    return f"room-{room_id}-{kind.replace('_', '-')}"


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def at_expression(moment: datetime) -> str:
    """EventBridge Scheduler's one-time expression: at(yyyy-mm-ddThh:mm:ss), in the
    schedule's time zone (we give UTC)."""
    return "at(" + moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ")"


def parse_at(expression: str) -> datetime:
    match = re.fullmatch(r"at\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)", expression)
    if not match:
        raise ValueError(f"not a one-time schedule expression: {expression!r}")
    return datetime.fromisoformat(match.group(1)).replace(tzinfo=timezone.utc)


def reminder_plan(scheduled_start: str, now: datetime) -> dict[str, datetime | None]:
    """When each reminder fires for a room starting at `scheduled_start`: None for a moment
    already past (a room created 5 minutes before its start gets no 15-minute reminder)."""
    start = parse_time(scheduled_start)
    plan: dict[str, datetime | None] = {}
    for kind, offset in REMINDER_OFFSETS.items():
        at = start + offset
        plan[kind] = at if at > now else None
    return plan


# ---------------------------------------------------------- provider answers

class ProviderError(Exception):
    """A provider refused a send. `retryable`: the same call may succeed later (rate limit,
    busy, throttled); `revoked`: the user refused or withdrew consent."""

    def __init__(self, provider: str, code: str, message: str = "", *, retryable: bool = False,
                 revoked: bool = False) -> None:
        super().__init__(provider, code, message)
        self.provider, self.code, self.message = provider, str(code), message[:200]
        self.retryable, self.revoked = retryable, revoked

    def __str__(self) -> str:
        return f"{self.provider} {self.code}: {self.message}"


# WeChat subscribeMessage.send errcodes (developers.weixin.qq.com, 发送订阅消息)
WECHAT_TOKEN_INVALID = {40001, 42001, 40014}           # refresh the access token once, then retry
WECHAT_RETRYABLE = {-1, 45009, 45011, 45047}           # busy, API quota/minute limit
WECHAT_REVOKED = {43101}                               # user refused (no / used-up consent)
# Alipay sub_codes of alipay.open.app.mini.templatemessage.send
ALIPAY_RETRYABLE = {"isp.unknow-error", "aop.ACQ.SYSTEM_ERROR", "isp.system_busy", "aop.invalid-app-call-limit"}
ALIPAY_REVOKED = {"USER_TEMPLATE_ILLEGAL", "USER_NOT_SUBSCRIBE", "FORM_ID_INVALID"}
# SNS Publish errors
SNS_RETRYABLE = {"Throttling", "ThrottlingException", "ThrottledException", "InternalError", "InternalFailure",
                 "ServiceUnavailable", "KMSThrottlingException"}
SNS_REVOKED = {"OptedOut"}


def wechat_error(errcode: int, errmsg: str) -> ProviderError:
    return ProviderError("wechat", str(errcode), errmsg, retryable=errcode in WECHAT_RETRYABLE,
                         revoked=errcode in WECHAT_REVOKED)


def alipay_error(sub_code: str, message: str) -> ProviderError:
    return ProviderError("alipay", sub_code, message, retryable=sub_code in ALIPAY_RETRYABLE,
                         revoked=sub_code in ALIPAY_REVOKED)


def sms_error(code: str, message: str) -> ProviderError:
    return ProviderError("sms", code, message, retryable=code in SNS_RETRYABLE, revoked=code in SNS_REVOKED)


def token_still_good(expires_at: float, now: float, margin_seconds: float = 300) -> bool:
    """An access token is used until `margin_seconds` before it expires (stable_token
    answers expires_in=7200; refreshing early never breaks the old one for 5 minutes)."""
    return now < expires_at - margin_seconds

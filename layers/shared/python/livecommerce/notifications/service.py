"""Use cases of notifications: the reminder state machine's tasks and the viewer's settings.

The state machine (statemachines/reservation_reminder.asl.json) calls the notify_tasks
function with {"task": ...}:

  check_room  the room still exists, is not ended (cancelled) and still starts at the
              schedule's start; else the run ends with that outcome recorded
  page        up to PAGE_SIZE reservations after a cursor (viewer ids)
  send        one notice to one viewer: claim the send record (kind, reason, user), pick the
              channel by consent and settings, take the frequency cap, send, settle the record;
              a retryable provider failure raises NoticeRetryable (the state machine retries
              with backoff), anything else is settled and returned
  gave_up     after the last retry: the record becomes failed with the provider's code
  finish      the run's counts, recorded and published (NoticeRunCompleted)
"""
from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

from livecommerce import identity, rooms
from livecommerce.notifications import repository, rules
from livecommerce.notifications.events import NoticeRunCompleted
from livecommerce.notifications.models import NotificationSettings, NotificationSettingsRequest
from livecommerce.notifications.providers import (AlipayTemplateSender, SnsSmsSender, WeChatSubscribeSender,
                                                  alipay_client)
from livecommerce.notifications.storage import RunItem, SettingsItem
from livecommerce.notifications.templates import REMINDER_KINDS, template
from livecommerce.shared import aws, ports
from livecommerce.shared.clock import utcnow
from livecommerce.shared.events import publish_event
from livecommerce.shared.settings import get_settings
from livecommerce.shared.observability import logger
from livecommerce.shared.ttl_cache import TtlCache

PAGE_SIZE = 500


class NoticeRetryable(Exception):
    """A send failed in a way that may pass later (rate limit, busy, network): the state
    machine retries this recipient with backoff (Retry on this error name)."""


def _now() -> str:
    return rules.iso(ports.get().clock.now())


# ------------------------------------------------------------------- providers

_secret: TtlCache[str, dict] = TtlCache(300.0)


def _credentials() -> dict:
    def load() -> dict:
        raw = aws.client("secretsmanager").get_secret_value(SecretId=get_settings().providers_secret_id)
        return json.loads(raw["SecretString"])

    return _secret.get("providers", load)


def _wechat() -> Any:
    creds = _credentials()
    return WeChatSubscribeSender(get_settings().wechat_api_base, creds["wechat_app_id"], creds["wechat_app_secret"])


def _alipay() -> Any:
    creds = _credentials()
    return AlipayTemplateSender(get_settings().alipay_gateway, alipay_client(
        creds["alipay_app_id"], creds["alipay_app_private_key"], creds["alipay_public_key"]))


def _sms() -> Any:
    return SnsSmsSender(aws.client("sns"), sender_id=os.environ.get("SMS_SENDER_ID") or None)


def _recipients() -> Any:
    """Where a user receives subscribe messages: (login provider, the user's id there)."""
    def of(user_id: str) -> tuple[str | None, str | None]:
        user = identity.find_user(user_id)
        if user is None:
            return None, None
        return user.provider, identity.payer_subject(user_id, user.provider)
    return of


_senders: dict[str, Any] = {}


def _sender(name: str) -> Any:
    overrides = ports.get().providers
    if f"notifications.{name}" in overrides:
        return overrides[f"notifications.{name}"]
    if name not in _senders:                      # one per container: the WeChat token cache lives in it
        _senders[name] = {"wechat": _wechat, "alipay": _alipay, "sms": _sms, "recipients": _recipients}[name]()
    return _senders[name]


def reset_senders() -> None:
    _senders.clear()
    _secret.clear()


# ----------------------------------------------------------------- the tasks

def check_room(room_id: str, kind: str, scheduled_start: str) -> dict[str, Any]:
    reason = rules.reason_key(room_id, scheduled_start)
    room = rooms.get_room(room_id, consistent=True)
    outcome = "ok"
    if kind not in REMINDER_KINDS:
        outcome = "unknown_kind"
    elif room is None:
        outcome = "room_not_found"
    elif room.status == "ended":
        outcome = "room_cancelled" if room.scheduled_start == scheduled_start else "room_ended"
    elif room.scheduled_start != scheduled_start:
        outcome = "rescheduled"                 # a stale schedule: the room's new start has its own
    elif kind == "reminder_15min" and room.status != "scheduled":
        outcome = "already_live"
    elif kind == "live_now" and room.status not in ("live", "interrupted"):
        outcome = "not_live_yet"                # RoomStarted moves the live_now schedule to then
    go = outcome == "ok"
    if not go:
        _record_run(kind, reason, room_id, outcome="skipped", detail=outcome)
    logger.info("reminder run checked", extra={"room_id": room_id, "kind": kind, "outcome": outcome})
    return {"go": go, "outcome": outcome, "room_id": room_id, "kind": kind, "scheduled_start": scheduled_start,
            "title": (rooms.room_title(room_id) or "") if go else ""}


def page(room_id: str, after: str | None, limit: int = PAGE_SIZE) -> dict[str, Any]:
    items, cursor = rooms.reservations_page(room_id, after=after, limit=limit)
    return {"viewers": [item.viewer_id for item in items], "cursor": cursor}


def send(*, kind: str, room_id: str, scheduled_start: str, viewer_id: str, title: str = "") -> dict[str, Any]:
    reason = rules.reason_key(room_id, scheduled_start)
    now = _now()
    claimed, record = repository.claim_send(kind=kind, reason=reason, room_id=room_id, user_id=viewer_id, now=now)
    if not claimed:
        # Sent, being sent or settled by an earlier run (Scheduler delivers at least once).
        return {"viewer_id": viewer_id, "outcome": "duplicate", "recorded_outcome": record.outcome}

    def settle(outcome: str, channel: str | None = None, code: str | None = None, message: str | None = None):
        repository.settle_send(record, outcome=outcome, channel=channel, now=_now(), provider_code=code,
                               provider_message=message)
        return {"viewer_id": viewer_id, "outcome": outcome, "channel": channel, "provider_code": code}

    reservation = rooms.reservation(room_id, viewer_id)
    if reservation is None or reservation.scheduled_start != scheduled_start:
        return settle(rules.SKIPPED_NOT_RESERVED)
    prefs = repository.get_user_settings(viewer_id)
    consent = rules.Consent(subscribe_message=reservation.subscribe_message, sms=reservation.sms,
                            has_phone=reservation.has_phone,
                            unsubscribed_subscribe=prefs is not None and not prefs.subscribe_message,
                            unsubscribed_sms=prefs is not None and not prefs.sms)
    used = repository.subscribe_consent_used(reason, viewer_id)
    channel = rules.channel_for(consent, subscribe_consent_used=used)
    if channel is None:
        return settle(rules.SKIPPED_CONSENT)
    fields = {"room_id": room_id, "scheduled_start": scheduled_start, "title": title or room_id}
    tpl = template(kind)

    target: tuple[str, str] | None = None         # (sender, address)
    if channel == rules.SUBSCRIBE:
        provider, subject = _sender("recipients")(viewer_id)
        if provider in ("wechat", "alipay") and subject:
            target = (provider, subject)
        elif rules.channel_for(consent, subscribe_consent_used=True) == rules.SMS:
            channel = rules.SMS                    # no subscribe-message address: SMS if allowed
        else:
            return settle(rules.SKIPPED_NO_RECIPIENT, channel)
    if channel == rules.SMS:
        phone = rooms.reservation_phone(room_id, viewer_id)
        if not phone:
            return settle(rules.SKIPPED_NO_RECIPIENT, channel)
        target = ("sms", phone)
    assert target is not None

    moment = ports.get().clock.now()
    day = rules.day_of(moment)
    if not repository.take_cap(viewer_id, day, cap=rules.DAILY_CAP,
                               expires_at=int((moment + timedelta(days=2)).timestamp())):
        return settle(rules.SKIPPED_CAP, channel)
    if channel == rules.SUBSCRIBE and not repository.use_subscribe_consent(reason=reason, user_id=viewer_id,
                                                                          kind=kind, now=now):
        repository.give_back_cap(viewer_id, day)
        return settle(rules.SKIPPED_CONSENT, channel)

    sender_name, address = target
    try:
        if sender_name == "sms":
            _sender("sms").send(phone=address, text=tpl.sms_text(fields))
        elif sender_name == "wechat":
            _sender("wechat").send(openid=address, template_id=tpl.template_id("wechat"), page=tpl.page(fields),
                                   data=tpl.wechat_data(fields))
        else:
            _sender("alipay").send(user_id=address, template_id=tpl.template_id("alipay"), page=tpl.page(fields),
                                   data=tpl.wechat_data(fields))
    except rules.ProviderError as exc:
        if exc.revoked:
            logger.info("notice refused by the user", extra={"kind": kind, "room_id": room_id, "code": exc.code})
            return settle(rules.SKIPPED_CONSENT_REVOKED, channel, exc.code, exc.message)
        repository.give_back_cap(viewer_id, day)
        if channel == rules.SUBSCRIBE:
            repository.give_back_subscribe_consent(reason, viewer_id)
        if exc.retryable:
            settle(rules.RETRYING, channel, exc.code, exc.message)
            raise NoticeRetryable(f"{exc.provider} {exc.code}") from None
        return settle(rules.FAILED, channel, exc.code, exc.message)
    return settle(rules.SENT, channel)


def gave_up(*, kind: str, room_id: str, scheduled_start: str, viewer_id: str, error: str = "") -> dict[str, Any]:
    """The state machine's retries are spent: a record left `retrying` (or `sending` by a
    crash) becomes `failed`, keeping the provider's last code."""
    reason = rules.reason_key(room_id, scheduled_start)
    record = repository.get_send(kind, reason, viewer_id)
    if record is None:
        return {"viewer_id": viewer_id, "outcome": rules.FAILED, "provider_code": None}
    if record.outcome in (rules.RETRYING, rules.SENDING):
        record.update(actions=[record.__class__.outcome.set(rules.FAILED),
                               record.__class__.updated_at.set(_now())],
                      condition=record.__class__.outcome.is_in(rules.RETRYING, rules.SENDING))
        record.outcome = rules.FAILED
    return {"viewer_id": viewer_id, "outcome": record.outcome, "provider_code": record.provider_code}


def tally(totals: dict[str, int] | None, results: list[dict[str, Any]]) -> dict[str, int]:
    totals = {"sent": 0, "skipped": 0, "failed": 0, "duplicate": 0, **(totals or {})}
    for result in results or []:
        outcome = str((result or {}).get("outcome", rules.FAILED))
        bucket = "sent" if outcome == rules.SENT else "duplicate" if outcome == "duplicate" else \
            "failed" if outcome in (rules.FAILED, rules.RETRYING, rules.SENDING) else "skipped"
        totals[bucket] = totals.get(bucket, 0) + 1
    return totals


def finish(*, kind: str, room_id: str, scheduled_start: str, totals: dict[str, int]) -> dict[str, Any]:
    reason = rules.reason_key(room_id, scheduled_start)
    counts = {name: int(totals.get(name, 0)) for name in ("sent", "skipped", "failed", "duplicate")}
    _record_run(kind, reason, room_id, outcome="completed", sent=counts["sent"], skipped=counts["skipped"],
                failed=counts["failed"])
    publish_event(NoticeRunCompleted(kind=kind, room_id=room_id, reason=reason, **counts))
    return {"outcome": "completed", **counts}


def _record_run(kind: str, reason: str, room_id: str | None, *, outcome: str, detail: str | None = None,
                sent: int = 0, skipped: int = 0, failed: int = 0) -> None:
    repository.put_run(RunItem(*RunItem.key(kind, reason), kind=kind, reason=reason, room_id=room_id,
                               outcome=outcome, detail=detail, sent=sent, skipped=skipped, failed=failed,
                               updated_at=_now()))


def run_task(event: dict[str, Any]) -> dict[str, Any]:
    """The notify_tasks entry: one state machine task."""
    task = event.get("task")
    args = {k: v for k, v in event.items() if k != "task"}
    if task == "check_room":
        return check_room(args["room_id"], args["kind"], args["scheduled_start"])
    if task == "page":
        return page(args["room_id"], args.get("cursor"))
    if task == "send":
        return send(kind=args["kind"], room_id=args["room_id"], scheduled_start=args["scheduled_start"],
                    viewer_id=args["viewer_id"], title=args.get("title", ""))
    if task == "gave_up":
        return gave_up(kind=args["kind"], room_id=args["room_id"], scheduled_start=args["scheduled_start"],
                       viewer_id=args["viewer_id"], error=str(args.get("error", "")))
    if task == "tally":
        return tally(args.get("totals"), args.get("results") or [])
    if task == "finish":
        return finish(kind=args["kind"], room_id=args["room_id"], scheduled_start=args["scheduled_start"],
                      totals=args.get("totals") or {})
    raise ValueError(f"unknown task {task!r}")


# ------------------------------------------------------------ viewer settings

def get_settings_of(user_id: str) -> NotificationSettings:
    item = repository.get_user_settings(user_id)
    if item is None:
        return NotificationSettings(subscribe_message=True, sms=True)
    return NotificationSettings(subscribe_message=item.subscribe_message, sms=item.sms, updated_at=item.updated_at)


def put_settings_of(user_id: str, body: NotificationSettingsRequest) -> NotificationSettings:
    now = rules.iso(utcnow())
    repository.put_user_settings(SettingsItem(*SettingsItem.key(user_id), user_id=user_id,
                                              subscribe_message=body.subscribe_message, sms=body.sms,
                                              updated_at=now))
    return NotificationSettings(subscribe_message=body.subscribe_message, sms=body.sms, updated_at=now)


__all__ = ["NoticeRetryable", "run_task"]

"""Post-live notices, shipping notices and new-room previews (issue 13, outcome 4).

Triggers (`on_event`, the notice_triggers function, EventBridge):

  RoomEnded      the room's post-live runs (non_buyer, order_summary) get a one-time schedule at
                 the end + REPLAY_WAIT (sent without the replay link if no replay comes)
  ReplayReady    the link is kept; when the room has ended the schedules move to now (+ settle)
  RoomCreated    a public room's preview run (new_room_preview) is scheduled at once
  OrderShipped / OrderDelivered   one direct send to the buyer (reason: the order), no machine

Each audience kind has its own state machine (statemachines/<kind>_notice.asl.json) whose tasks
are `run_task` here (the notice_tasks function): check, page (ONE analytics query per kind, paged
by viewer id), send (one recipient: consent, cap, coupon, provider), gave_up, tally, finish.
Every send goes through the send records (kind, reason, user): a repeated run or delivery sends
nothing twice.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

from livecommerce import analytics, identity, marketing, rooms
from livecommerce.media.events import ReplayReady
from livecommerce.notifications import postlive, repository, rules
from livecommerce.notifications.events import NoticeRunCompleted
from livecommerce.notifications.models import (ConsentGrants, ConsentGrantsRequest, NoticeRun, NoticeRuns,
                                               PreviewAudience, PreviewAudienceRequest, RoomNoticeSettings,
                                               RoomNoticeSettingsRequest)
from livecommerce.notifications.service import NoticeRetryable, _sender
from livecommerce.notifications.storage import HostPreviewItem
from livecommerce.notifications.templates import CONSENT_KINDS, POST_LIVE_KINDS, PREVIEW_KIND, template
from livecommerce.orders.events import OrderDelivered, OrderShipped
from livecommerce.rooms.events import RoomCreated, RoomEnded
from livecommerce.shared import aws, ports, problems
from livecommerce.shared.api import Caller
from livecommerce.shared.events import publish_event
from livecommerce.shared.observability import logger

AUDIENCE_KINDS = POST_LIVE_KINDS + (PREVIEW_KIND,)


def _now_dt() -> datetime:
    return ports.get().clock.now()


def _now() -> str:
    return rules.iso(_now_dt())


def _seconds(name: str, default: timedelta) -> timedelta:
    try:
        return timedelta(seconds=float(os.environ[name]))
    except (KeyError, ValueError):
        return default


# ------------------------------------------------------------------ schedules

def _machine_env(kind: str) -> tuple[str, str]:
    key = postlive.MACHINE_OF[kind].upper()
    return os.environ[f"{key}_STATE_MACHINE_ARN"], os.environ.get(f"{key}_SCHEDULE_GROUP", "default")


def put_schedule(kind: str, room_id: str, at: datetime) -> str:
    """Create the run's one-time schedule, or move it. 'created' / 'moved'."""
    arn, group = _machine_env(kind)
    at = max(at, _now_dt() + timedelta(seconds=5)).replace(microsecond=0)
    client = aws.client("scheduler")
    params = dict(Name=postlive.schedule_name(room_id, kind), GroupName=group,
                  ScheduleExpression=rules.at_expression(at), ScheduleExpressionTimezone="UTC",
                  FlexibleTimeWindow={"Mode": "OFF"},
                  Target={"Arn": arn, "RoleArn": os.environ["SCHEDULER_ROLE_ARN"],
                          "Input": json.dumps({"room_id": room_id, "kind": kind}),
                          "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 300}},
                  ActionAfterCompletion="DELETE", State="ENABLED", Description=f"{kind} notices of room {room_id}")
    try:
        client.create_schedule(**params)
        return "created"
    except client.exceptions.ConflictException:
        client.update_schedule(**params)
        return "moved"


def _started(room_id: str, kind: str) -> bool:
    run = repository.get_notice_run(room_id, kind)
    return run is not None and run.outcome in ("running", "completed")


def _schedule_post_live(room_id: str, ended_at: str, replay_ready: bool) -> dict[str, str]:
    at = postlive.post_live_start(ended_at=rules.parse_time(ended_at), replay_ready=replay_ready, now=_now_dt(),
                                  settle=_seconds("NOTICE_SETTLE_SECONDS", postlive.SETTLE),
                                  wait=_seconds("REPLAY_WAIT_SECONDS", postlive.REPLAY_WAIT))
    return {kind: ("already_started" if _started(room_id, kind) else put_schedule(kind, room_id, at))
            for kind in POST_LIVE_KINDS}


def room_ended(detail: dict[str, Any]) -> dict[str, Any]:
    event = RoomEnded.parse(detail)
    if event.visibility != "public":
        return {"outcome": "ignored", "reason": "test room"}
    if event.previous_status == "scheduled":
        return {"outcome": "ignored", "reason": "cancelled before it started"}
    ended_at = event.occurred_at or _now()
    item = repository.update_room_notices(event.room_id, _now(), ended_at=ended_at)
    done = _schedule_post_live(event.room_id, ended_at, replay_ready=bool(item.replay_url))
    return {"outcome": "scheduled", "room_id": event.room_id, "schedules": done}


def replay_ready(detail: dict[str, Any]) -> dict[str, Any]:
    event = ReplayReady.parse(detail)
    item = repository.update_room_notices(event.room_id, _now(), replay_url=event.playlist_url,
                                          replay_ready_at=event.occurred_at or _now())
    ended_at = item.ended_at
    if ended_at is None:
        room = rooms.get_room(event.room_id, consistent=True)
        if room is None or room.status != "ended" or room.visibility != "public":
            return {"outcome": "recorded", "room_id": event.room_id}   # RoomEnded schedules the runs
        ended_at = _now()
        repository.update_room_notices(event.room_id, _now(), ended_at=ended_at)
    done = _schedule_post_live(event.room_id, ended_at, replay_ready=True)
    return {"outcome": "scheduled", "room_id": event.room_id, "schedules": done}


def room_announced(detail: dict[str, Any]) -> dict[str, Any]:
    event = RoomCreated.parse(detail)
    if event.visibility != "public" or event.status != "scheduled":
        return {"outcome": "ignored", "reason": "not a public announcement"}
    if _started(event.room_id, PREVIEW_KIND):
        return {"outcome": "already_started"}
    return {"outcome": "scheduled", "room_id": event.room_id,
            "schedules": {PREVIEW_KIND: put_schedule(PREVIEW_KIND, event.room_id, _now_dt())}}


def shipping_notice(detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    """OrderShipped / OrderDelivered: one notice to the buyer, once per order and kind."""
    if detail_type == "OrderShipped":
        shipped = OrderShipped.parse(detail)
        kind, order_id, user_id, room_id = "shipped", shipped.order_id, shipped.user_id, shipped.room_id
        fields = {"order_id": shipped.order_id, "carrier_name": shipped.carrier_name,
                  "tracking_number": shipped.tracking_number, "shipped_at": shipped.shipped_at,
                  "confirm_by": shipped.confirm_by}
    else:
        delivered = OrderDelivered.parse(detail)
        kind, order_id, user_id, room_id = "delivered", delivered.order_id, delivered.user_id, delivered.room_id
        fields = {"order_id": delivered.order_id, "delivered_at": delivered.delivered_at, "cause": delivered.cause}
    result = deliver(kind=kind, reason=order_id, room_id=room_id, user_id=user_id, fields=fields)
    logger.info("shipping notice", extra={"kind": kind, "order_id": order_id, "outcome": result["outcome"]})
    return result


TRIGGERS = {"RoomEnded": room_ended, "ReplayReady": replay_ready, "RoomCreated": room_announced}


def on_event(event: dict[str, Any]) -> dict[str, Any]:
    """The notice_triggers entry. A retryable provider failure of a shipping notice raises
    NoticeRetryable (Lambda's asynchronous retries deliver the event again; the record allows
    the retry and nothing else)."""
    detail_type = str(event.get("detail-type") or "")
    detail = event.get("detail") or {}
    try:
        if detail_type in ("OrderShipped", "OrderDelivered"):
            return shipping_notice(detail_type, detail)
        handler = TRIGGERS.get(detail_type)
        if handler is None:
            return {"outcome": "ignored", "reason": f"detail type {detail_type!r}"}
        return handler(detail)
    except ValueError as exc:               # pydantic ValidationError, a room id that names no schedule
        logger.warning("notice trigger ignored", extra={"detail_type": detail_type, "error": str(exc)[:300]})
        return {"outcome": "ignored", "reason": "invalid event"}


# ------------------------------------------------------------- machine tasks

def check(room_id: str, kind: str) -> dict[str, Any]:
    """May this run go, and with what: the title, the replay link or its absence, the coupon."""
    now = _now()
    fields: dict[str, Any] = {"room_id": room_id}
    outcome = "ok"
    room = rooms.get_room(room_id, consistent=True)
    if kind not in AUDIENCE_KINDS:
        outcome = "unknown_kind"
    elif room is None:
        outcome = "room_not_found"
    elif room.visibility != "public":
        outcome = postlive.SKIPPED_ROOM_TEST
    elif kind in POST_LIVE_KINDS and room.status != "ended":
        outcome = "room_not_ended"
    elif kind == PREVIEW_KIND and room.status != "scheduled":
        outcome = "room_not_scheduled"
    if outcome != "ok":
        if kind in AUDIENCE_KINDS:
            repository.skip_notice_run(room_id, kind, now, outcome)
        return {"go": False, "outcome": outcome}
    assert room is not None
    fields.update(title=rooms.room_title(room_id) or "", host_id=room.host_id, scheduled_start=room.scheduled_start)
    detail = None
    replay_linked = None
    coupon = None
    if kind in POST_LIVE_KINDS:
        notes = repository.get_room_notices(room_id)
        replay_url = notes.replay_url if notes else None
        replay_linked = bool(replay_url)
        if replay_url:
            fields["replay_url"] = replay_url
        else:
            detail = "replay_missing"          # no ReplayReady within the wait: sent without the link
        if kind == "non_buyer" and notes is not None and notes.coupon_template_id:
            coupon = fields["coupon_template_id"] = notes.coupon_template_id
    else:
        host = identity.find_host(room.host_id)
        fields["host_name"] = host.display_name if host else ""
        preview = repository.get_host_preview(room.host_id)
        fields["tags"] = list(preview.tags) if preview else []
    repository.start_notice_run(room_id, kind, now, detail=detail, replay_linked=replay_linked,
                                coupon_template_id=coupon)
    logger.info("notice run checked", extra={"room_id": room_id, "kind": kind, "detail": detail})
    return {"go": True, "outcome": "ok", "fields": fields}


def page(room_id: str, kind: str, cursor: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    """One page of the kind's audience: ONE query (analytics SQL), keyset-paged by user id."""
    after = cursor or ""
    name = postlive.QUERY_OF[kind]
    if kind == "non_buyer":
        rows = analytics.run_query(name, room_id=room_id, after=after,
                                   min_watch_seconds=analytics.HIGH_INTENT_WATCH_SECONDS)
        return {"recipients": [{"user_id": r["user_id"]} for r in rows], "cursor": postlive.page_cursor(rows)}
    if kind == "order_summary":
        rows = analytics.run_query(name, room_id=room_id, after=after)
        return {"recipients": [{"user_id": r["user_id"], "orders": int(r["orders"] or 0),
                                "amount": int(r["amount"] or 0)} for r in rows],
                "cursor": postlive.page_cursor(rows)}
    host_id = str(fields.get("host_id") or "")
    host_rooms = rooms.room_ids_of_host(host_id, before=fields.get("scheduled_start") or None) if host_id else []
    rows = analytics.run_query(name, host_id=host_id, room_id=room_id, after=after,
                               room_ids=analytics.room_list(host_rooms))
    chosen, next_cursor = postlive.preview_page(rows, fields.get("tags") or (), facts_type=analytics.ViewerFacts,
                                                tags_of=analytics.tags_of)
    return {"recipients": [{"user_id": user} for user in chosen], "cursor": next_cursor}


def _coupon(user_id: str, template_id: str, room_id: str) -> dict[str, Any]:
    """The host's coupon for a non-buyer, issued once per user and room (marketing's grant ref)."""
    try:
        coupon_id = marketing.grant_coupon(user_id, template_id, ref=f"notice-non_buyer-{room_id}")
    except problems.Problem as exc:           # exhausted, expired, over the per-user limit, gone
        logger.info("notice coupon not issued", extra={"room_id": room_id, "code": exc.code})
        return {}
    amount = next((c.amount for c in marketing.usable_coupons(user_id) if c.coupon_id == coupon_id), 0)
    return {"coupon_id": coupon_id, "coupon_amount": int(amount or 0)}


def deliver(*, kind: str, reason: str, room_id: str | None, user_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """One notice of a consent kind to one user, at most once per (kind, reason, user)."""
    now = _now()
    claimed, record = repository.claim_send(kind=kind, reason=reason, room_id=room_id, user_id=user_id, now=now)
    if not claimed:
        return {"user_id": user_id, "outcome": "duplicate", "recorded_outcome": record.outcome}

    def settle(outcome: str, channel: str | None = None, code: str | None = None, message: str | None = None):
        repository.settle_send(record, outcome=outcome, channel=channel, now=_now(), provider_code=code,
                               provider_message=message)
        return {"user_id": user_id, "outcome": outcome, "channel": channel, "provider_code": code}

    if kind == PREVIEW_KIND and not identity.follows(str(fields.get("host_id") or ""), user_id):
        return settle(postlive.SKIPPED_NOT_FOLLOWER)
    prefs = repository.get_user_settings(user_id)
    reservation = rooms.reservation(room_id, user_id) if room_id and kind in POST_LIVE_KINDS else None
    consent = postlive.KindConsent(
        grants_left=repository.grants_left(user_id, kind),
        unsubscribed_subscribe=prefs is not None and not prefs.subscribe_message,
        sms=bool(reservation and reservation.sms), has_phone=bool(reservation and reservation.has_phone),
        unsubscribed_sms=prefs is not None and not prefs.sms)
    channel = postlive.channel_for(consent)
    if channel is None:
        return settle(rules.SKIPPED_CONSENT)
    target: tuple[str, str] | None = None
    if channel == rules.SUBSCRIBE:
        provider, subject = _sender("recipients")(user_id)
        if provider in ("wechat", "alipay") and subject:
            target = (provider, subject)
        elif postlive.channel_for(postlive.KindConsent(**{**consent.__dict__, "grants_left": 0})) == rules.SMS:
            channel = rules.SMS
        else:
            return settle(rules.SKIPPED_NO_RECIPIENT, channel)
    if channel == rules.SMS:
        phone = rooms.reservation_phone(room_id, user_id) if room_id else None
        if not phone:
            return settle(rules.SKIPPED_NO_RECIPIENT, channel)
        target = ("sms", phone)
    assert target is not None

    moment = _now_dt()
    day = rules.day_of(moment)
    if not repository.take_cap(user_id, day, cap=rules.DAILY_CAP,
                               expires_at=int((moment + timedelta(days=2)).timestamp())):
        return settle(rules.SKIPPED_CAP, channel)
    if channel == rules.SUBSCRIBE and not repository.take_consent_grant(user_id, kind):
        repository.give_back_cap(user_id, day)
        return settle(rules.SKIPPED_CONSENT, channel)

    values = dict(fields)
    if kind == "non_buyer" and fields.get("coupon_template_id") and room_id:
        values.update(_coupon(user_id, str(fields["coupon_template_id"]), room_id))
    tpl = template(kind)
    sender_name, address = target
    try:
        if sender_name == "sms":
            _sender("sms").send(phone=address, text=tpl.sms_text(values))
        elif sender_name == "wechat":
            _sender("wechat").send(openid=address, template_id=tpl.template_id("wechat"), page=tpl.page(values),
                                   data=tpl.wechat_data(values))
        else:
            _sender("alipay").send(user_id=address, template_id=tpl.template_id("alipay"), page=tpl.page(values),
                                   data=tpl.wechat_data(values))
    except rules.ProviderError as exc:
        if exc.revoked:
            if channel == rules.SUBSCRIBE:      # the provider says the user withdrew it: none left
                repository.revoke_consent_grants(user_id, kind, _now())
            return settle(rules.SKIPPED_CONSENT_REVOKED, channel, exc.code, exc.message)
        repository.give_back_cap(user_id, day)
        if channel == rules.SUBSCRIBE:
            repository.give_back_consent_grant(user_id, kind)
        if exc.retryable:
            settle(rules.RETRYING, channel, exc.code, exc.message)
            raise NoticeRetryable(f"{exc.provider} {exc.code}") from None
        return settle(rules.FAILED, channel, exc.code, exc.message)
    return settle(rules.SENT, channel)


def gave_up(*, kind: str, reason: str, user_id: str) -> dict[str, Any]:
    record = repository.get_send(kind, reason, user_id)
    if record is None:
        return {"user_id": user_id, "outcome": rules.FAILED}
    if record.outcome in (rules.RETRYING, rules.SENDING):
        record.update(actions=[record.__class__.outcome.set(rules.FAILED), record.__class__.updated_at.set(_now())],
                      condition=record.__class__.outcome.is_in(rules.RETRYING, rules.SENDING))
        record.outcome = rules.FAILED
    return {"user_id": user_id, "outcome": record.outcome, "provider_code": record.provider_code}


def finish(room_id: str, kind: str, totals: dict[str, int]) -> dict[str, Any]:
    counts = {name: int(totals.get(name, 0)) for name in postlive.BUCKETS}
    counts["audience"] = counts["sent"] + counts["skipped_consent"] + counts["skipped"] + counts["failed"]
    run = repository.complete_notice_run(room_id, kind, _now(), counts)
    publish_event(NoticeRunCompleted(kind=kind, room_id=room_id, reason=room_id, sent=counts["sent"],
                                     skipped=counts["skipped"] + counts["skipped_consent"],
                                     skipped_consent=counts["skipped_consent"], failed=counts["failed"],
                                     duplicate=counts["duplicate"], replay_linked=run.replay_linked))
    return {"outcome": "completed", **counts}


def run_task(event: dict[str, Any]) -> dict[str, Any]:
    """The notice_tasks entry: one task of an audience notice's state machine."""
    task = event.get("task")
    room_id, kind = str(event.get("room_id") or ""), str(event.get("kind") or "")
    if task == "check":
        return check(room_id, kind)
    if task == "page":
        return page(room_id, kind, event.get("cursor"), event.get("fields") or {})
    if task == "send":
        recipient = event.get("recipient") or {}
        return deliver(kind=kind, reason=room_id, room_id=room_id, user_id=str(recipient.get("user_id")),
                       fields={**(event.get("fields") or {}), **recipient})
    if task == "gave_up":
        return gave_up(kind=kind, reason=room_id, user_id=str((event.get("recipient") or {}).get("user_id")))
    if task == "tally":
        return postlive.tally(event.get("totals"), event.get("results") or [])
    if task == "finish":
        return finish(room_id, kind, event.get("totals") or {})
    raise ValueError(f"unknown task {task!r}")


# ------------------------------------------------------------------- routes

def consent_grants_of(user_id: str) -> ConsentGrants:
    left = {item.kind: int(item.remaining) for item in repository.consent_grants(user_id)}
    return ConsentGrants(grants={kind: left.get(kind, 0) for kind in CONSENT_KINDS})


def add_consent_grants(user_id: str, body: ConsentGrantsRequest) -> ConsentGrants:
    now = _now()
    for kind in sorted(set(body.accepted)):
        repository.add_consent_grants(user_id, kind, body.accepted.count(kind), now)
    for kind in sorted(set(body.rejected)):
        repository.revoke_consent_grants(user_id, kind, now)
    return consent_grants_of(user_id)


def revoke_consent(user_id: str, kind: str) -> ConsentGrants:
    if kind not in CONSENT_KINDS:
        raise problems.NotFound("No such notice kind.", code="unknown_notice_kind")
    repository.revoke_consent_grants(user_id, kind, _now())
    return consent_grants_of(user_id)


def room_settings(caller: Caller, room_id: str) -> RoomNoticeSettings:
    rooms.require_room_host(caller, room_id)
    item = repository.get_room_notices(room_id)
    return RoomNoticeSettings(room_id=room_id, coupon_template_id=item.coupon_template_id if item else None)


def put_room_settings(caller: Caller, room_id: str, body: RoomNoticeSettingsRequest) -> RoomNoticeSettings:
    room = rooms.require_room_host(caller, room_id)
    if body.coupon_template_id is not None and not marketing.coupon_template_exists(body.coupon_template_id):
        raise problems.NotFound("No such coupon template.", code="template_not_found")
    if room.status == "ended" and _started(room_id, "non_buyer"):
        raise problems.Conflict("The non-buyer notices have already gone out.", code="notices_sent")
    repository.update_room_notices(room_id, _now(), coupon_template_id=body.coupon_template_id,
                                   settings_by=caller.user_id)
    return RoomNoticeSettings(room_id=room_id, coupon_template_id=body.coupon_template_id)


def runs_of(caller: Caller, room_id: str) -> NoticeRuns:
    rooms.require_room_host(caller, room_id)
    runs = [NoticeRun(kind=item.kind, outcome=item.outcome, detail=item.detail, replay_linked=item.replay_linked,
                      coupon_template_id=item.coupon_template_id, audience=int(item.audience), sent=int(item.sent),
                      skipped_consent=int(item.skipped_consent), skipped=int(item.skipped), failed=int(item.failed),
                      duplicate=int(item.duplicate), runs=int(item.runs), started_at=item.started_at,
                      completed_at=item.completed_at)
            for item in repository.notice_runs(room_id)]
    return NoticeRuns(room_id=room_id, runs=sorted(runs, key=lambda r: r.kind))


def preview_audience_of(caller: Caller) -> PreviewAudience:
    _require_host(caller)
    item = repository.get_host_preview(caller.user_id)
    return PreviewAudience(tags=list(item.tags) if item else [], updated_at=item.updated_at if item else None)


def put_preview_audience(caller: Caller, body: PreviewAudienceRequest) -> PreviewAudience:
    _require_host(caller)
    unknown = sorted(set(body.tags) - set(analytics.TAGS))
    if unknown:
        raise problems.ValidationFailed(f"Unknown tags: {', '.join(unknown)}.", code="unknown_tag")
    now = _now()
    tags = sorted(set(body.tags))
    repository.put_host_preview(HostPreviewItem(*HostPreviewItem.key(caller.user_id), host_id=caller.user_id,
                                                tags=tags, updated_at=now))
    return PreviewAudience(tags=tags, updated_at=now)


def _require_host(caller: Caller) -> None:
    if "host" not in caller.roles and "operator" not in caller.roles:
        raise problems.Forbidden("Only hosts choose a preview audience.", code="not_a_host")

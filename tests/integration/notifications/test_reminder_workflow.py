"""The reservation reminder end to end on moto: a room scheduled -> EventBridge Scheduler
schedules (moto) -> the local scheduler loop fires them on an injected clock -> moto executes
statemachines/reservation_reminder.asl.json -> its Lambda tasks run the real notify_tasks
handler -> send records, SMS through SNS (moto's inbox), subscribe messages through a sender
that answers like WeChat (one success after a 45009 rate limit, one 43101 refusal)."""
from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.fakes import FakeClock
from tests.polling import poll

# The reminder machine's Scheduler group, as the workflows stack names it (tests/conftest.py sets the env).
GROUP = os.environ["REMINDER_SCHEDULE_GROUP"]


class WeChatLike:
    """Answers like subscribeMessage.send: 45009 (rate limit) on the first try for
    `throttled` openids, 43101 (user refused) for `refused` ones; records what it delivered."""

    def __init__(self, throttled=(), refused=()):
        self.throttled, self.refused = set(throttled), set(refused)
        self.inbox: list[dict] = []
        self.calls: dict[str, int] = {}

    def send(self, *, openid, template_id, page, data):
        from livecommerce.notifications import rules

        self.calls[openid] = self.calls.get(openid, 0) + 1
        if openid in self.refused:
            raise rules.wechat_error(43101, "user refuse to accept the msg")
        if openid in self.throttled and self.calls[openid] == 1:
            raise rules.wechat_error(45009, "reach max api daily quota limit")
        self.inbox.append({"touser": openid, "template_id": template_id, "page": page, "data": data})
        return "msg-1"


def _start(hours: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).replace(microsecond=0).isoformat() \
        .replace("+00:00", "Z")


@pytest.fixture
def workflows(api, tokens_for, ivs_env, seeded, monkeypatch):
    from local import stepfunctions
    from livecommerce.notifications import service

    stepfunctions.enable_execution()
    stepfunctions.route_lambda_tasks()
    arns = stepfunctions.create_state_machines(seeded, prefix="livecommerce-local")
    monkeypatch.setenv("REMINDER_STATE_MACHINE_ARN", arns["reservation_reminder"])
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/livecommerce-local-scheduler")
    service.reset_senders()
    yield arns
    service.reset_senders()


def _history(session, execution_arn):
    sfn = session.client("stepfunctions")
    done = poll(lambda: sfn.describe_execution(executionArn=execution_arn)["status"] != "RUNNING", timeout=60)
    assert done
    return sfn.describe_execution(executionArn=execution_arn), \
        sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]


def test_reminder_reaches_each_viewer_once_by_consent_with_retries(workflows, api, tokens_for, seeded):
    from local.stepfunctions import SchedulerLoop
    from livecommerce.notifications import repository, schedules
    from livecommerce.shared import ports

    start = _start(24)
    room = api.call("POST", "/v1/rooms", token=tokens_for("host-1"), json_body={
        "title": "冬季好物专场", "scheduled_start": start, "cover": "https://img.example.com/c.jpg"}).json()
    room_id = room["id"]
    reserve = {"viewer-1": {"subscribe_message": True},                                   # wechat, throttled once
               "viewer-2": {"subscribe_message": False, "sms": True, "phone": "13812345678"},   # SMS
               "viewer-3": {"subscribe_message": True},                                   # refused (43101)
               "buyer-1": {"subscribe_message": False, "sms": True, "phone": "13900001111"}}    # unsubscribed SMS
    for viewer, body in reserve.items():
        assert api.call("PUT", f"/v1/rooms/{room_id}/reservation", token=tokens_for(viewer),
                        json_body=body).status in (200, 201)
    off = api.call("PUT", "/v1/me/notification-settings", token=tokens_for("buyer-1"),
                   json_body={"subscribe_message": True, "sms": False})
    assert off.status == 200 and off.json()["sms"] is False
    bad = api.call("PUT", "/v1/me/notification-settings", token=tokens_for("buyer-1"), json_body={"sms": "no"})
    assert bad.status == 422 and bad.headers.get("Content-Type", "").startswith("application/problem+json")

    wechat = WeChatLike(throttled={"openid-viewer-1"}, refused={"openid-viewer-3"})
    recipients = lambda user_id: ("wechat", f"openid-{user_id}")   # noqa: E731 - identity keeps no openid yet
    clock = FakeClock(datetime.fromisoformat(start.replace("Z", "+00:00")) - timedelta(hours=1))
    with ports.use(clock=clock, providers={"notifications.wechat": wechat, "notifications.recipients": recipients}):
        # RoomCreated -> the two schedules (the handler as EventBridge calls it)
        done = schedules.on_room_event({"detail-type": "RoomCreated", "detail": {"room_id": room_id}})
        assert done["schedules"]["reminder_15min"] == "created" and done["schedules"]["live_now"] == "created"
        scheduler = seeded.client("scheduler")
        fifteen = scheduler.get_schedule(Name=f"room-{room_id}-reminder-15min", GroupName=GROUP)
        assert fifteen["ScheduleExpression"] == "at(" + (clock.at + timedelta(minutes=45)).strftime(
            "%Y-%m-%dT%H:%M:%S") + ")"
        assert fifteen["ActionAfterCompletion"] == "DELETE"
        assert json.loads(fifteen["Target"]["Input"]) == {"room_id": room_id, "kind": "reminder_15min",
                                                          "scheduled_start": start}

        loop = SchedulerLoop(seeded, clock=clock.now, groups=(GROUP,))
        clock.advance(44 * 60)
        assert loop.tick() == []                       # 16 minutes before: nothing yet
        clock.advance(60)
        fired = loop.tick()
        assert [f["name"] for f in fired] == [f"room-{room_id}-reminder-15min"]
        with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
            scheduler.get_schedule(Name=f"room-{room_id}-reminder-15min", GroupName=GROUP)

        execution, events = _history(seeded, fired[0]["execution_arn"])
        assert execution["status"] == "SUCCEEDED", events[-3:]
        report = json.loads(execution["output"])["report"]
        assert report == {"outcome": "completed", "sent": 2, "skipped": 2, "failed": 0, "duplicate": 0}
        kinds = [e["type"] for e in events]
        assert "MapRunStarted" in kinds or "MapStateStarted" in kinds

        reason = f"{room_id}#{start}"
        records = {r.user_id: r for r in repository.sends_of("reminder_15min", reason)}
        assert {u: (r.outcome, r.channel, r.provider_code) for u, r in records.items()} == {
            "viewer-1": ("sent", "subscribe_message", None),
            "viewer-2": ("sent", "sms", None),
            "viewer-3": ("skipped_consent_revoked", "subscribe_message", "43101"),
            "buyer-1": ("skipped_consent", None, None)}
        assert records["viewer-1"].attempts == 2          # retried after 45009 with backoff, then sent
        assert wechat.calls == {"openid-viewer-1": 2, "openid-viewer-3": 1}
        assert [m["touser"] for m in wechat.inbox] == ["openid-viewer-1"]
        assert wechat.inbox[0]["data"]["thing1"] == "冬季好物专场"

        from moto.sns.models import sns_backends
        sms = list(sns_backends["123456789012"][seeded.region_name].sms_messages.values())
        assert sms == [("+8613812345678", sms[0][1])] and "还有15分钟" in sms[0][1]

        # The same schedule firing again (Scheduler delivers at least once): nobody gets it twice.
        again = seeded.client("stepfunctions").start_execution(
            stateMachineArn=workflows["reservation_reminder"], name=uuid.uuid4().hex, input=json.dumps(fired[0]["input"]))
        execution, _ = _history(seeded, again["executionArn"])
        assert execution["status"] == "SUCCEEDED"
        assert json.loads(execution["output"])["report"] == {"outcome": "completed", "sent": 0, "skipped": 0,
                                                             "failed": 0, "duplicate": 4}
        assert len(wechat.inbox) == 1 and len(sns_backends["123456789012"][seeded.region_name].sms_messages) == 1


def test_cancelled_rescheduled_and_unknown_rooms_end_visibly(workflows, api, tokens_for, seeded):
    from local.stepfunctions import SchedulerLoop
    from livecommerce.notifications import repository, schedules
    from livecommerce.shared import ports

    start = _start(24)
    host = tokens_for("host-1")
    room_id = api.call("POST", "/v1/rooms", token=host, json_body={
        "title": "Moved", "scheduled_start": start, "cover": "https://img.example.com/c.jpg"}).json()["id"]
    api.call("PUT", f"/v1/rooms/{room_id}/reservation", token=tokens_for("viewer-1"),
             json_body={"subscribe_message": False, "sms": True, "phone": "13812345678"})
    clock = FakeClock(datetime.now(timezone.utc))
    scheduler = seeded.client("scheduler")
    with ports.use(clock=clock):
        schedules.on_room_event({"detail-type": "RoomCreated", "detail": {"room_id": room_id}})
        later = _start(48)
        assert api.call("PATCH", f"/v1/rooms/{room_id}", token=host, json_body={"scheduled_start": later}).status == 200
        moved = schedules.on_room_event({"detail-type": "RoomUpdated", "detail": {"room_id": room_id}})
        assert moved["schedules"]["reminder_15min"] == "moved"
        at = scheduler.get_schedule(Name=f"room-{room_id}-reminder-15min", GroupName=GROUP)["ScheduleExpression"]
        assert at == "at(" + (datetime.fromisoformat(later.replace("Z", "+00:00")) - timedelta(minutes=15)) \
            .strftime("%Y-%m-%dT%H:%M:%S") + ")"

        # A stale run for the old start (a schedule that fired before it moved) changes nothing.
        sfn = seeded.client("stepfunctions")
        stale = sfn.start_execution(stateMachineArn=workflows["reservation_reminder"], name=uuid.uuid4().hex, input=json.dumps(
            {"room_id": room_id, "kind": "reminder_15min", "scheduled_start": start}))
        execution, events = _history(seeded, stale["executionArn"])
        assert execution["status"] == "SUCCEEDED" and events[-1]["type"] == "ExecutionSucceeded"
        assert repository.get_run("reminder_15min", f"{room_id}#{start}").detail == "rescheduled"

        # Unknown room: the run ends, recorded.
        ghost = "01J0000000000000000000GHST"
        run = sfn.start_execution(stateMachineArn=workflows["reservation_reminder"], name=uuid.uuid4().hex, input=json.dumps(
            {"room_id": ghost, "kind": "reminder_15min", "scheduled_start": start}))
        execution, _ = _history(seeded, run["executionArn"])
        assert execution["status"] == "SUCCEEDED"
        assert repository.get_run("reminder_15min", f"{ghost}#{start}").detail == "room_not_found"
        assert schedules.on_room_event({"detail-type": "RoomEnded", "detail": {"room_id": ghost}})["schedules"] \
            == {"reminder_15min": "none", "live_now": "none", "room": "not_found"}

        # Cancelled: the host ends the room before it starts -> both schedules deleted; a run
        # already started for it records room_cancelled and sends nothing.
        assert api.call("POST", f"/v1/rooms/{room_id}/end", token=host).status == 200
        gone = schedules.on_room_event({"detail-type": "RoomEnded", "detail": {"room_id": room_id}})
        assert gone["schedules"]["reminder_15min"] == "deleted" and gone["schedules"]["live_now"] == "deleted"
        assert SchedulerLoop(seeded, clock=lambda: clock.now() + timedelta(days=3), groups=(GROUP,)).tick() == []
        pending = sfn.start_execution(stateMachineArn=workflows["reservation_reminder"], name=uuid.uuid4().hex, input=json.dumps(
            {"room_id": room_id, "kind": "reminder_15min", "scheduled_start": later}))
        execution, _ = _history(seeded, pending["executionArn"])
        assert execution["status"] == "SUCCEEDED"
        assert repository.get_run("reminder_15min", f"{room_id}#{later}").detail == "room_cancelled"
        assert repository.sends_of("reminder_15min", f"{room_id}#{later}") == []

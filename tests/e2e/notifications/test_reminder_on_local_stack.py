"""`make local` runs the reminder workflow: a WeChat viewer (logged in through the code2session
stand-in) reserves a room starting in 15 minutes and a few seconds; the room's reminder schedule is
created by the event consumer; the local scheduler's clock is moved through its control endpoint (no
15-minute wait); Scheduler starts statemachines/reservation_reminder.asl.json on the embedded AWS;
its Lambda tasks run the real notify_tasks handler, which sends the subscribe message to the WeChat
stand-in: the reminder lands in the stand-in's inbox, addressed to the viewer's openid."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from live_helpers import aws as _aws, wechat_login
from stackproc import request, url_of
from tests.polling import poll

pytestmark = pytest.mark.e2e
GROUP = "livecommerce-local-reminders"


def test_reserved_viewer_gets_the_15_minute_reminder_in_the_wechat_inbox(stack):
    url, lines, _proc = stack
    wechat, scheduler_url = url_of(lines, "wechat_standin"), url_of(lines, "scheduler")
    viewer, _, openid = wechat_login(url, wechat)
    _, _, host = request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": "host-1"})

    start = (datetime.now(timezone.utc) + timedelta(minutes=15, seconds=30)).replace(microsecond=0)
    start_text = start.isoformat().replace("+00:00", "Z")
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": "E2E 提醒专场", "scheduled_start": start_text,
                                                          "cover": "https://img.example.com/c.jpg"}, host["token"])
    assert status == 201, room
    room_id = room["id"]
    status, _, reserved = request("PUT", f"{url}/v1/rooms/{room_id}/reservation", {"subscribe_message": True},
                                  viewer)
    assert status in (200, 201), reserved

    # RoomCreated -> reminder_schedules -> two one-time schedules in the reminder group.
    scheduler = _aws(lines, "scheduler")
    name = f"room-{room_id}-reminder-15min"

    def schedules():
        return {s["Name"] for s in scheduler.list_schedules(GroupName=GROUP)["Schedules"]}
    assert poll(lambda: {name, f"room-{room_id}-live-now"} <= schedules(), timeout=15), schedules()
    fifteen = scheduler.get_schedule(Name=name, GroupName=GROUP)
    assert fifteen["ScheduleExpression"] == "at(" + (start - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%S") + ")"

    # Not due yet on the real clock: a tick fires nothing; move the scheduler's clock past the moment.
    status, _, ticked = request("POST", f"{scheduler_url}/__local/scheduler/tick", {})
    assert status == 200 and name not in [f["name"] for f in ticked["fired"]]
    status, _, clock = request("POST", f"{scheduler_url}/__local/clock", {"advance_seconds": 60})
    assert status == 200 and clock["offset_seconds"] >= 60
    assert request("POST", f"{scheduler_url}/__local/clock", {"advance": "x"})[0] == 400

    def inbox():
        return [m for m in request("GET", f"{wechat}/__standin/inbox")[2]["inbox"] if m["touser"] == openid]
    delivered = poll(inbox, timeout=20, interval=0.2)
    assert len(delivered) == 1, delivered
    message = delivered[0]
    assert message["template_id"] == "local-wechat-reminder_15min"
    assert room_id in message["page"]
    assert "E2E 提醒专场" in json.dumps(message["data"], ensure_ascii=False)
    # The schedule ran once and was deleted; the live_now one waits for its moment.
    assert name not in schedules() and f"room-{room_id}-live-now" in schedules()

    # The execution's real history on the embedded AWS: succeeded, one sent.
    sfn = _aws(lines, "stepfunctions")
    (machine,) = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
                  if m["name"] == "livecommerce-local-reservation-reminder"]

    def finished():
        runs = [e for e in sfn.list_executions(stateMachineArn=machine)["executions"]
                if json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])["room_id"] == room_id]
        return runs if runs and all(r["status"] != "RUNNING" for r in runs) else None
    runs = poll(finished, timeout=20, interval=0.2)
    assert runs and [r["status"] for r in runs] == ["SUCCEEDED"]
    output = json.loads(sfn.describe_execution(executionArn=runs[0]["executionArn"])["output"])
    assert output["report"]["sent"] == 1 and output["report"]["failed"] == 0
    # Firing again (the control endpoint ticks now): nothing is due, nothing sent twice.
    request("POST", f"{scheduler_url}/__local/scheduler/tick", {})
    assert len(inbox()) == 1

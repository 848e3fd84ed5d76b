"""Reminder schedules: EventBridge Scheduler one-time schedules that start the reminder state
machine 15 minutes before a room's start (reminder_15min) and at go-live (live_now).

One schedule per room and purpose, named deterministically (rules.schedule_name), in the
reminder schedule group, `at(...)` in UTC, ActionAfterCompletion DELETE. Every room event is
answered from the room as it is now (events may arrive late or out of order):

  scheduled  both schedules at their moments (a moment already past gets none)
  live       the 15-minute one is deleted; live_now fires a minute from now (the room went
             live; the send records keep a viewer from getting it twice)
  ended      both deleted (a room ended before it started is a cancelled room)
  no room    both deleted; the outcome says so
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

from livecommerce import rooms
from livecommerce.notifications import rules
from livecommerce.shared import aws, ports
from livecommerce.shared.observability import logger


def _group() -> str:
    return os.environ.get("REMINDER_SCHEDULE_GROUP", "default")


def _target(kind: str, room_id: str, scheduled_start: str) -> dict[str, Any]:
    return {
        "Arn": os.environ["REMINDER_STATE_MACHINE_ARN"],
        "RoleArn": os.environ["SCHEDULER_ROLE_ARN"],
        "Input": json.dumps({"room_id": room_id, "kind": kind, "scheduled_start": scheduled_start}),
        # Scheduler retries a failed StartExecution (throttled) for up to 5 minutes.
        "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 300},
    }


def put_schedule(room_id: str, kind: str, at: datetime, scheduled_start: str) -> str:
    """Create the schedule, or move it when it exists. Returns 'created' or 'moved'."""
    client = aws.client("scheduler")
    params = dict(Name=rules.schedule_name(room_id, kind), GroupName=_group(),
                  ScheduleExpression=rules.at_expression(at), ScheduleExpressionTimezone="UTC",
                  FlexibleTimeWindow={"Mode": "OFF"}, Target=_target(kind, room_id, scheduled_start),
                  ActionAfterCompletion="DELETE", State="ENABLED",
                  Description=f"{kind} for room {room_id} starting {scheduled_start}")
    try:
        client.create_schedule(**params)
        return "created"
    except client.exceptions.ConflictException:
        client.update_schedule(**params)
        return "moved"


def delete_schedule(room_id: str, kind: str) -> bool:
    client = aws.client("scheduler")
    try:
        client.delete_schedule(Name=rules.schedule_name(room_id, kind), GroupName=_group())
        return True
    except client.exceptions.ResourceNotFoundException:
        return False


def sync(room_id: str, now: datetime | None = None) -> dict[str, str]:
    """Make the room's schedules match the room. Returns what happened to each kind."""
    now = now or ports.get().clock.now()
    room = rooms.get_room(room_id, consistent=True)
    done: dict[str, str] = {}
    if room is None or room.status == "ended":
        for kind in rules.REMINDER_OFFSETS:
            done[kind] = "deleted" if delete_schedule(room_id, kind) else "none"
        done["room"] = "not_found" if room is None else "ended"
        return done
    if room.status in ("live", "interrupted"):
        done["reminder_15min"] = "deleted" if delete_schedule(room_id, "reminder_15min") else "none"
        done["live_now"] = put_schedule(room_id, "live_now", now + timedelta(minutes=1), room.scheduled_start)
        done["room"] = room.status
        return done
    for kind, at in rules.reminder_plan(room.scheduled_start, now).items():
        if at is None:
            done[kind] = "deleted" if delete_schedule(room_id, kind) else "past"
        else:
            done[kind] = put_schedule(room_id, kind, at, room.scheduled_start)
    done["room"] = room.status
    return done


def on_room_event(event: dict[str, Any]) -> dict[str, Any]:
    detail = event.get("detail") or {}
    room_id = detail.get("room_id")
    if not isinstance(room_id, str) or not room_id:
        logger.warning("room event without a room id", extra={"detail_type": event.get("detail-type")})
        return {"outcome": "ignored", "reason": "no room_id"}
    try:
        done = sync(room_id)
    except ValueError as exc:                       # a room id that cannot name a schedule
        logger.warning("room event ignored", extra={"room_id": room_id, "error": str(exc)})
        return {"outcome": "ignored", "reason": str(exc)}
    logger.info("reminder schedules synced", extra={"room_id": room_id, "detail_type": event.get("detail-type"),
                                                     "schedules": done})
    return {"outcome": "synced", "room_id": room_id, "schedules": done}

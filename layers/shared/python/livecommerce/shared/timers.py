"""On-time commerce moments: a flash sale's countdown, start and end, a coupon drop.

The commerce clock (the order_expiry tick) runs once a minute, and EventBridge
Scheduler is no finer (it fires within the minute). Viewers counting down to a
flash sale expect it to open, and the room to hear so, at the second. So
whoever learns that a moment is less than TIMER_LEAD_SECONDS away (the call
that schedules it, the minute tick looking ahead, the step before it) asks
the commerce_timers function to wake at that moment: one asynchronous invocation
(livecommerce.shared.async_invoke) with {"timer": {"kind", "id", "at_ms"}}.
The woken function sleeps until the moment and runs the step.

Every step is a conditional write that runs once, whoever gets there first:
a timer asked for twice, or a tick that finds a step overdue because its
timer was lost, does no harm. The tick stays the fallback, at most a minute
late; nothing is ever announced early.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from livecommerce.shared.async_invoke import invoke_async
from livecommerce.shared.clock import utcnow
from livecommerce.shared.observability import logger

CLOCK_FUNCTION = "commerce_timers"
# The tick runs every 60 s and asks for the moments of the next 75 s: the windows overlap.
TIMER_LEAD_SECONDS = 75
_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass(frozen=True)
class StepResult:
    """What a step runner did: the step it ran (None when nothing was due or it
    had run already) and when the subject's next step is due (None: none left)."""
    ran: str | None
    next_at: datetime | None


# kind -> runner(subject id, now) -> StepResult
Runner = Callable[[str, datetime], StepResult]


@dataclass(frozen=True)
class Timer:
    kind: str
    id: str
    at: datetime


def timer_event(kind: str, subject_id: str, at: datetime) -> dict:
    return {"timer": {"kind": kind, "id": subject_id, "at_ms": int(at.timestamp() * 1000)}}


def request(kind: str, subject_id: str, at: datetime | None, *, now: datetime | None = None) -> bool:
    """Ask to be woken at `at` when it is close enough; False when it is not (the tick
    asks later) or the invocation could not be made (the tick runs it, late)."""
    if at is None:
        return False
    now = now or utcnow()
    if at - now > timedelta(seconds=TIMER_LEAD_SECONDS):
        return False
    return invoke_async(CLOCK_FUNCTION, timer_event(kind, subject_id, at))


def parse(raw: object, kinds: tuple[str, ...], *, now: datetime) -> Timer:
    """A timer request from an invocation event; ValueError when it is not one of ours."""
    if not isinstance(raw, dict):
        raise ValueError("timer: an object is required")
    kind, subject_id, at_ms = raw.get("kind"), raw.get("id"), raw.get("at_ms")
    if kind not in kinds:
        raise ValueError(f"timer: unknown kind {str(kind)[:40]!r}")
    if not isinstance(subject_id, str) or not _ID.match(subject_id):
        raise ValueError("timer: id must be a ULID")
    if not isinstance(at_ms, int) or isinstance(at_ms, bool):
        raise ValueError("timer: at_ms must be an integer")
    at = datetime.fromtimestamp(at_ms / 1000, timezone.utc)
    if at - now > timedelta(seconds=TIMER_LEAD_SECONDS + 5):
        raise ValueError("timer: too far ahead")          # nobody asks that early: not ours to sleep on
    return Timer(kind=kind, id=subject_id, at=at)


def run(raw: object, runners: dict[str, Runner], *, sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow) -> dict:
    """Sleep until the timer's moment, run its subject's due step, and ask for the next
    step's timer when that one is close too (a fresh invocation: each sleeps once)."""
    try:
        timer = parse(raw, tuple(runners), now=clock())
    except ValueError as exc:
        logger.warning("malformed timer ignored", extra={"error": str(exc), "timer": str(raw)[:200]})
        return {"ran": None, "error": str(exc)}
    wait = (timer.at - clock()).total_seconds()
    if wait > 0:
        sleep(wait)
    result = runners[timer.kind](timer.id, clock())
    if result.ran is None and result.next_at is not None \
            and result.next_at - clock() <= timedelta(seconds=TIMER_LEAD_SECONDS):
        # Nothing due yet (woken a little early, or the step before was run by someone
        # else and the next one is near): wait for it, once.
        sleep(max(0.0, (result.next_at - clock()).total_seconds()))
        result = runners[timer.kind](timer.id, clock())
    if result.ran is not None and result.next_at is not None:
        request(timer.kind, timer.id, result.next_at, now=clock())
    return {"kind": timer.kind, "id": timer.id, "ran": result.ran,
            "next_at": result.next_at.isoformat() if result.next_at else None}

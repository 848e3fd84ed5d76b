"""EventBridge schedule expressions for the local stack's schedule loop.

The loop wakes every minute: a `rate(...)` function runs on every wake (as SCHEDULED_FUNCTIONS did), a
`cron(...)` one when the expression matches the minute (UTC, as EventBridge rules evaluate it). Only the
fields our specs use are understood: minutes and hours as `*`, a number or a comma list; day-of-month,
month, day-of-week and year as `*` or `?` (every day). Anything else is refused, so a spec that asks for
more is noticed here, not silently run at the wrong time.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

_CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
_EVERY = {"*", "?"}


def _field(value: str, now: int, name: str) -> bool:
    if value == "*":
        return True
    if not re.fullmatch(r"\d+(,\d+)*", value):
        raise ValueError(f"the local schedule loop does not understand {name} {value!r}")
    return now in {int(v) for v in value.split(",")}


def cron_due(expression: str, at: datetime) -> bool:
    """Whether a `cron(min hour dom month dow year)` expression fires in the minute of `at` (UTC)."""
    match = _CRON.match(expression.strip())
    if match is None:
        raise ValueError(f"not a cron expression: {expression!r}")
    minute, hour, *days = match.groups()
    if any(d not in _EVERY for d in days):
        raise ValueError(f"the local schedule loop runs daily expressions only: {expression!r}")
    return _field(minute, at.minute, "minute") and _field(hour, at.hour, "hour")


def due(expression: str, at: datetime) -> bool:
    """rate(...): every wake of the loop (each minute); cron(...): when it matches the minute."""
    if expression.startswith("rate("):
        return True
    return cron_due(expression, at)


def fires_between(expression: str, after: datetime, upto: datetime) -> bool:
    """Whether a cron expression fires in a minute after `after`'s minute, up to `upto`'s (the loop's
    wakes drift: no minute is skipped and none fires twice)."""
    minute = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while minute <= upto:
        if cron_due(expression, minute):
            return True
        minute += timedelta(minutes=1)
    return False

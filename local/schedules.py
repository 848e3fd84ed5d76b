"""EventBridge schedule expressions for the local stack's schedule loop.

The loop wakes every minute and runs every FunctionSpec that has a schedule (`scheduled_functions`: read from
the manifest, so a new scheduled function cannot be forgotten here): a `rate(1 minute)` function on every
wake, a longer `rate(N minutes|hours|days)` one when a multiple of its period (counted from the epoch) has
passed since the last wake, a `cron(...)` one when the expression matches a minute since the last wake (UTC,
as EventBridge rules evaluate it). Only the
fields our specs use are understood: minutes and hours as `*`, a number or a comma list; day-of-month,
month, day-of-week and year as `*` or `?` (every day). Anything else is refused, so a spec that asks for
more is noticed here, not silently run at the wrong time.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

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


def _rate_fires_between(expression: str, after: datetime, upto: datetime) -> bool:
    from livecommerce.shared.spec import schedule_period_seconds

    period_minutes = schedule_period_seconds(expression) // 60
    if period_minutes <= 1:
        return True     # every wake (each minute)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)

    def minutes(at: datetime) -> int:
        return int((at - epoch).total_seconds() // 60)

    return minutes(upto) // period_minutes > minutes(after) // period_minutes


def runs_between(expression: str, after: datetime, upto: datetime) -> bool:
    """Whether a function scheduled by `expression` runs on a wake at `upto` whose previous wake was at
    `after` (rate or cron; an expression the loop cannot run faithfully raises ValueError)."""
    if expression.startswith("rate("):
        return _rate_fires_between(expression, after, upto)
    return fires_between(expression, after, upto)


def scheduled_functions(specs: Iterable) -> list[tuple[str, str]]:
    """(name, schedule expression) of every FunctionSpec EventBridge runs on a schedule on AWS; each
    expression is checked here, so a spec the loop cannot honour stops the stack from starting."""
    scheduled = [(spec.name, spec.schedule) for spec in specs if spec.schedule]
    from livecommerce.shared.spec import schedule_period_seconds

    for _, expression in scheduled:
        if expression.startswith("rate("):
            schedule_period_seconds(expression)
        else:
            cron_due(expression, datetime.now(timezone.utc))
    return scheduled


def due_functions(scheduled: Iterable[tuple[str, str]], after: datetime, upto: datetime) -> list[str]:
    """The functions a wake at `upto` runs, the previous wake having been at `after`."""
    return [name for name, expression in scheduled if runs_between(expression, after, upto)]

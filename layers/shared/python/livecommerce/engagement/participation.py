"""Points for taking part: the rules, in one place, with no I/O (property-tested in
tests/unit/engagement/test_participation.py).

  rule            earns                                   per viewer and day at most
  watch_time      1 point per full 5 minutes watched      60   (analytics' ViewerWatchTimes, once per room)
  quiz_answer     the quiz's points for a right answer    100  (engagement.polls, once per quiz)
  share           5 points per viewer who arrives         30   (marketing's ShareArrived, once per invitee
                  through the viewer's share code              and room)
  lottery_entry   2 points per lottery entered            10   (engagement's entry path, once per lottery)

and at most USER_DAILY_CAP points a day from all of them together. A day is a calendar day in
China Standard Time (UTC+8, no daylight saving): the caps reset at local midnight. An award that
would pass a cap is cut to what is left (possibly 0); the rest is not carried over.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")
WATCH_SECONDS_PER_POINT = 300
SHARE_POINTS = 5
LOTTERY_ENTRY_POINTS = 2
USER_DAILY_CAP = 150


@dataclass(frozen=True)
class Rule:
    name: str
    daily_cap: int
    what: str


RULES: dict[str, Rule] = {rule.name: rule for rule in (
    Rule("watch_time", 60, "1 point per full 5 minutes watched in a room"),
    Rule("quiz_answer", 100, "a quiz's points for a right answer"),
    Rule("share", 30, f"{SHARE_POINTS} points per viewer arriving through your share code"),
    Rule("lottery_entry", 10, f"{LOTTERY_ENTRY_POINTS} points per lottery entered"),
)}


def day_of(at: datetime) -> str:
    """The cap's day of a moment (China Standard Time), as YYYY-MM-DD."""
    if at.tzinfo is None:
        raise ValueError("an aware datetime is required")
    return at.astimezone(CHINA).date().isoformat()


def watch_points(seconds: int) -> int:
    return max(0, int(seconds)) // WATCH_SECONDS_PER_POINT


def grant(rule: str, requested: int, *, used_by_rule: int, used_in_total: int) -> int:
    """What an award of `requested` points under `rule` gets, given what the viewer already got
    today under that rule and in total: never more than asked, never past either cap."""
    cap = RULES[rule].daily_cap
    return max(0, min(int(requested), cap - int(used_by_rule), USER_DAILY_CAP - int(used_in_total)))

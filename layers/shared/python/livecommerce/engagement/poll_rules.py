"""Poll and quiz rules with no I/O (property-tested in tests/unit/engagement/test_poll_rules.py).

A poll has 2 to 10 options; a vote names one option (single choice) or 1..max_choices distinct
options (multiple choice); one vote per viewer (the vote item's conditional put holds it under
any concurrency); a vote counts while the poll is open (state open and before closes_at). A quiz
is a single-choice question whose answer stays hidden until it closes; right answers earn its
points, and its ranking is the right answerers, fastest first.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterable, Sequence

from livecommerce.shared import problems

MIN_OPTIONS, MAX_OPTIONS = 2, 10
COUNT_SHARDS = 8                 # per option: votes of a crowd spread over 8 counter items
BROADCAST_INTERVAL_MS = 1000     # live results at most once a second per poll (and IoT Core's retained limit)
RANKING_SIZE = 50


def check_options(options: Sequence[str]) -> None:
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise problems.ValidationFailed(f"options: {MIN_OPTIONS} to {MAX_OPTIONS}.", errors=[
            {"field": "body.options", "message": f"{MIN_OPTIONS} to {MAX_OPTIONS} options", "type": "value_error"}])
    if len({o.strip() for o in options}) != len(options):
        raise problems.ValidationFailed("options: each option once.", errors=[
            {"field": "body.options", "message": "duplicate option", "type": "value_error"}])


def check_choices(choices: Sequence[int], option_count: int, *, multiple: bool, max_choices: int) -> list[int]:
    """The vote's options, sorted: 422 `option_not_found` for an option the poll does not have,
    422 `too_many_choices` / `duplicate_choice` for what a single or multiple choice does not allow."""
    missing = sorted({c for c in choices if not 0 <= c < option_count})
    if missing:
        raise problems.Problem(f"No option {missing[0]} in this poll (options 0 to {option_count - 1}).",
                               code="option_not_found", status=422, title="No such option",
                               errors=[{"field": "body.choices", "message": "no such option", "type": "value_error"}])
    if len(set(choices)) != len(choices):
        raise problems.Problem("Each option at most once.", code="duplicate_choice", status=422,
                               title="Duplicate choice")
    allowed = max_choices if multiple else 1
    if not 1 <= len(choices) <= allowed:
        raise problems.Problem(f"Choose 1 to {allowed} option(s).", code="too_many_choices", status=422,
                               title="Too many choices")
    return sorted(choices)


def is_open(state: str, closes_at_epoch: float, now_epoch: float) -> bool:
    return state == "open" and now_epoch < closes_at_epoch


def shard_of(user_id: str) -> int:
    """A stable counter shard per voter (crc32: the same in every process)."""
    return zlib.crc32(user_id.encode()) % COUNT_SHARDS


def tally(shards: Iterable[tuple[int, int]], option_count: int) -> list[int]:
    """Per-option counts from (option, count) pairs of the counter shards."""
    counts = [0] * option_count
    for option, count in shards:
        if 0 <= option < option_count:
            counts[option] += int(count)
    return counts


@dataclass(frozen=True)
class Answer:
    user_id: str
    choice: int
    answered_ms: int


def ranking(answers: Iterable[Answer], correct: int, *, size: int = RANKING_SIZE) -> list[Answer]:
    """The right answers, fastest first (ties by user id), at most `size`."""
    right = [a for a in answers if a.choice == correct]
    return sorted(right, key=lambda a: (a.answered_ms, a.user_id))[:size]

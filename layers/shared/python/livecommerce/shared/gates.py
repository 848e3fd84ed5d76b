"""Waiting for a coalescing gate: at most one publish per interval per gate.

A gate is an item that remembers when its last publish went out. A caller
tries to take the slot (one conditional write); when the slot is closed it
reads the gate to learn when the next one opens (and whether someone else
already waits for it), sleeps until then and tries again, at most MAX_WAITS
times. The store calls are the caller's (`take`, `next_slot`); this module
only runs the loop.

Time and sleep come from the clock port (livecommerce.shared.ports), so a
test drives them with `ports.use(clock=...)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Generic, TypeVar

from livecommerce.shared import ports

T = TypeVar("T")

MAX_WAITS = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)


def now_ms() -> int:
    """The clock port's time in epoch milliseconds (integer arithmetic: no float rounding)."""
    return (ports.get().clock.now() - _EPOCH) // _MS


def sleep_ms(ms: int) -> None:
    if ms > 0:
        ports.get().clock.sleep(ms / 1000.0)


def gate_wait_ms(last_ms: int | None, now: int, interval_ms: int) -> int:
    """How long until the next publish is allowed (0: now)."""
    if last_ms is None:
        return 0
    return max(0, last_ms + interval_ms - now)


@dataclass(frozen=True)
class Waited(Generic[T]):
    """How a wait ended: `taken` (the caller took the slot; `value` is what `take` returned),
    `left` (another caller carries it), or neither (MAX_WAITS ran out)."""

    taken: bool
    value: T | None = None
    left: bool = False


def wait_for_gate(take: Callable[[int], tuple[bool, T]], next_slot: Callable[[int], int | None], *,
                  min_sleep_ms: int = 0, max_waits: int = MAX_WAITS) -> Waited[T]:
    """Loop until `take(now_ms)` says it is done (`(True, value)`) or `next_slot(now_ms)` gives up.

    `take` tries the slot at the given time; `(False, _)` when it is closed (or the caller
    wants another slot). `next_slot` reads the gate: the time (ms) the next slot opens, when
    this caller should try again, or None when another caller will carry what it waited for.
    The wait sleeps until that time (at least `min_sleep_ms`)."""
    for _ in range(max_waits):
        done, value = take(now_ms())
        if done:
            return Waited(taken=True, value=value)
        until = next_slot(now_ms())
        if until is None:
            return Waited(taken=False, left=True)
        sleep_ms(max(min_sleep_ms, until - now_ms()))
    return Waited(taken=False)

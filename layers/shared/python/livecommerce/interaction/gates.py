"""Waiting for a coalescing gate (at most one publish per interval per gate).

The clock and sleep are module attributes so tests can drive them."""
from __future__ import annotations

import time

from livecommerce.interaction import repository
from livecommerce.interaction.density import gate_wait_ms

MAX_WAITS = 50


def now_ms() -> int:
    return int(time.time() * 1000)


def sleep_ms(ms: int) -> None:
    if ms > 0:
        time.sleep(ms / 1000.0)


def wait_for_slot(room_id: str, name: str, interval_ms: int) -> int | None:
    """Block until this caller holds the next publish slot of the gate; its time (ms)."""
    for _ in range(MAX_WAITS):
        at = now_ms()
        if repository.try_gate(room_id, name, now_ms=at, interval_ms=interval_ms):
            return at
        gate = repository.read_gate(room_id, name)
        last = int(gate.last_ms) if gate is not None and gate.last_ms is not None else None
        sleep_ms(max(5, gate_wait_ms(last, now_ms(), interval_ms)))
    return None

"""The interaction context's coalescing gates (danmaku batches, like totals, stock,
timed-metadata cards) on the platform's one gate-wait loop (livecommerce.shared.gates;
its clock and sleep are the clock port's, so tests drive them with ports.use(clock=...))."""
from __future__ import annotations

from livecommerce.interaction import repository
from livecommerce.shared.gates import MAX_WAITS, Waited, gate_wait_ms, now_ms, sleep_ms, wait_for_gate

__all__ = ["MAX_WAITS", "Waited", "now_ms", "sleep_ms", "wait_for_gate", "wait_for_slot", "wait_for_trailing"]


def wait_for_slot(room_id: str, name: str, interval_ms: int) -> int | None:
    """Block until this caller holds the next publish slot of the gate; its time (ms)."""

    def take(at: int) -> tuple[bool, int]:
        return repository.try_gate(room_id, name, now_ms=at, interval_ms=interval_ms), at

    def next_slot(now: int) -> int:
        gate = repository.read_gate(room_id, name)
        last = int(gate.last_ms) if gate is not None and gate.last_ms is not None else None
        return now + gate_wait_ms(last, now, interval_ms)

    return wait_for_gate(take, next_slot, min_sleep_ms=5).value


def trailing_slot(room_id: str, name: str, interval_ms: int, *, waiting: str) -> int | None:
    """`next_slot` of a queue gate: when the next slot opens if something still waits in the
    gate (`waiting`: the attribute, 'cards' or 'pending') and this caller claimed to be the
    trailing one of that window; None when another caller carries it."""
    gate = repository.read_gate(room_id, name)
    if gate is None or not getattr(gate, waiting):
        return None                      # a publisher took the queue with theirs
    until = int(gate.last_ms or 0) + interval_ms
    if not repository.claim_trailing(room_id, name, until_ms=until):
        return None                      # the trailing publisher of that slot takes it
    return until


def wait_for_trailing(room_id: str, name: str, interval_ms: int, take, *, waiting: str = "cards") -> Waited:
    """wait_for_gate with a queue gate's trailing-caller rule."""
    return wait_for_gate(take, lambda now: trailing_slot(room_id, name, interval_ms, waiting=waiting))

"""Fixed-window counters and caps (pure)."""
from __future__ import annotations


def window_index(now_s: float, window_seconds: int) -> int:
    return int(now_s // window_seconds)


def window_end(now_s: float, window_seconds: int) -> int:
    return (window_index(now_s, window_seconds) + 1) * window_seconds


def retry_after(now_s: float, window_seconds: int) -> int:
    return max(1, int(window_end(now_s, window_seconds) - now_s + 0.999))


def clamp_likes(requested: int, used: int, cap: int) -> int:
    """How many of `requested` likes fit under the per-user cap (0: none)."""
    return max(0, min(requested, cap - used))

"""ULIDs: 48-bit millisecond time + 80 random bits, Crockford base32.

Small enough to keep here rather than add a dependency to every Lambda.
Monotonic within one process: ids made in the same millisecond still sort in
creation order.
"""
from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last = (0, 0)


def _encode(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def new_ulid() -> str:
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_rand = _last
        if millis <= last_millis:
            millis, rand = last_millis, (last_rand + 1) & ((1 << 80) - 1)
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _last = (millis, rand)
    return _encode(millis, 10) + _encode(rand, 16)

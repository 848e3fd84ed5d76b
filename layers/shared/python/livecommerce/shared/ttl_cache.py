"""A small per-container cache: values kept for a fixed time, thread-safe, bounded.

Lambda containers serve one request at a time, but the local stack runs many
in one process, hence the lock."""
from __future__ import annotations

import threading
import time
from typing import Callable, Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, seconds: float, *, max_entries: int = 1024) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V], *, fresh: bool = False) -> V:
        """The kept value if younger than `seconds` (and not `fresh`), else `load()`, kept."""
        now = time.monotonic()
        if not fresh:
            with self._lock:
                hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.seconds:
                return hit[1]
        value = load()
        self.put(key, value, at=now)
        return value

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """(True, value) when a value younger than `seconds` is kept, else (False, None):
        a caller that batches its loads asks first, loads the misses together, then puts them."""
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.seconds:
            return True, hit[1]
        return False, None

    def put(self, key: K, value: V, *, at: float | None = None) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries and key not in self._entries:
                self._entries.clear()        # a container serves few keys; start over rather than track age
            self._entries[key] = (time.monotonic() if at is None else at, value)

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

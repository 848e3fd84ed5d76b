"""The embedded AWS serves calls made on behalf of an API request first.

Every caller of the embedded AWS (local/embedded_aws.py), API or background, goes through its one
lock (moto is not thread-safe, and the journal must record requests in the order they ran). Under a
crowd that lock is the queue the API waits in, behind the work the API's earlier requests caused
(event deliveries, stream pumps, schedules). On AWS that work runs on capacity of its own.

Two halves:

- In a function worker process (local/lambda_runtime.py), the pool says which kind of invocation the
  worker runs (`set_current_kind`); a botocore `before-send` handler, registered for every botocore
  session made in the process (`install`, from the forkserver's preload before any session exists),
  adds `X-Local-Priority: api` to every AWS call made during an API invocation. Background
  invocations, and the stack process's own callers (event delivery's polls and deletes, the stream
  pumps, the schedule loop, resource setup), send no header. The header is added after signing:
  SigV4 only covers the headers it names (`SignedHeaders`), so the signature still holds.
- In the embedded AWS, `PriorityLock` replaces the plain lock: when it is released it is handed to
  the longest-waiting API caller first, in arrival order; background callers in arrival order after
  them; a background caller that has waited `aging_seconds` goes before the API callers (aging:
  deferred under a crowd, never starved). Each caller's own calls are sequential, so nothing is
  reordered within a caller; the lock still serialises every call (one at a time into moto; the
  journal appends under it, in execution order).
"""
from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable

HEADER = "X-Local-Priority"
ENVIRON_KEY = "HTTP_X_LOCAL_PRIORITY"
KINDS = ("api", "background")
DEFAULT_AGING_SECONDS = 1.0
DEFAULT_API_GAP_SECONDS = 0.005

# -- the worker side: which kind of invocation this process is running -------------------------------

_current_kind = "background"   # process-wide: a worker runs one invocation at a time (its threads too)
_installed = False


def set_current_kind(kind: str) -> None:
    global _current_kind
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    _current_kind = kind


def current_kind() -> str:
    return _current_kind


def mark_request(request: Any, **_: Any) -> None:
    """botocore `before-send` handler: an API invocation's call says so (returns None: botocore sends it)."""
    if _current_kind == "api":
        request.headers[HEADER] = "api"


def install() -> None:
    """Register `mark_request` for every botocore session made from now on in this process."""
    global _installed
    if _installed:
        return
    from botocore import handlers

    handlers.BUILTIN_HANDLERS.append(("before-send", mark_request))
    _installed = True


def kind_of(environ: dict) -> str:
    """The kind of an embedded-AWS request (WSGI environ): "api" only when its caller said so."""
    return "api" if environ.get(ENVIRON_KEY) == "api" else "background"


# -- the embedded AWS side: a lock that serves the API first ------------------------------------------

class _Waiter:
    __slots__ = ("kind", "since", "thread", "granted", "cond")

    def __init__(self, kind: str, since: float, thread: int, mutex: Any) -> None:
        self.kind, self.since, self.thread = kind, since, thread
        self.granted = False
        self.cond = threading.Condition(mutex)   # its own: a hand-off wakes the one thread it is for


def _take_next(queues: dict[str, collections.deque], now: float, aging_seconds: float) -> tuple[Any, int]:
    """Pop the next of two queues (items with a `since`): an aged background one, else the first API one,
    else the first background one; and 1 if it went ahead of a waiting API item by aging, else 0."""
    api, background = queues["api"], queues["background"]
    if background and (not api or now - background[0].since >= aging_seconds):
        return background.popleft(), 1 if api else 0
    return (api.popleft() if api else None), 0


class PriorityLock:
    """A reentrant lock whose release hands it to the next waiter by kind (see the module doc):
    an aged background waiter, else the first API waiter, else the first background waiter.
    `with lock:` takes it as background; `with lock.hold(kind):` says which."""

    def __init__(self, aging_seconds: float = DEFAULT_AGING_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if aging_seconds < 0:
            raise ValueError("aging_seconds must be >= 0")
        self.aging_seconds = aging_seconds
        self.clock = clock
        self._mutex = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiting: dict[str, collections.deque[_Waiter]] = {k: collections.deque() for k in KINDS}
        self._stats = {k: {"acquired": 0, "waited": 0, "wait_seconds": 0.0, "max_wait_seconds": 0.0,
                           "max_waiting": 0} for k in KINDS}
        self._aged = 0

    def acquire(self, kind: str = "background") -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            stats = self._stats[kind]
            if self._owner is None:   # free: nobody waits (a release hands it straight to a waiter)
                self._owner, self._depth = me, 1
                stats["acquired"] += 1
                return
            waiter = _Waiter(kind, self.clock(), me, self._mutex)
            queue = self._waiting[kind]
            queue.append(waiter)
            stats["max_waiting"] = max(stats["max_waiting"], len(queue))
            try:
                while not waiter.granted:
                    waiter.cond.wait()
            except BaseException:   # interrupted while waiting: never leave the lock with a gone waiter
                if waiter.granted:
                    self._depth = 1
                    self._release_locked()
                else:
                    queue.remove(waiter)
                raise
            waited = self.clock() - waiter.since
            stats["acquired"] += 1
            stats["waited"] += 1
            stats["wait_seconds"] += waited
            stats["max_wait_seconds"] = max(stats["max_wait_seconds"], waited)

    def release(self) -> None:
        with self._mutex:
            if self._owner != threading.get_ident():
                raise RuntimeError("release of a PriorityLock this thread does not hold")
            self._release_locked()

    def _release_locked(self) -> None:
        self._depth -= 1
        if self._depth:
            return
        waiter = self._next()
        if waiter is None:
            self._owner = None
            return
        self._owner, self._depth = waiter.thread, 1
        waiter.granted = True
        waiter.cond.notify()

    def _next(self) -> _Waiter | None:
        waiter, aged = _take_next(self._waiting, self.clock(), self.aging_seconds)
        self._aged += aged
        return waiter

    def __enter__(self) -> "PriorityLock":
        self.acquire("background")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def hold(self, kind: str) -> "_Hold":
        return _Hold(self, kind)

    def waiting(self) -> dict[str, int]:
        with self._mutex:
            return {k: len(q) for k, q in self._waiting.items()}

    def stats(self) -> dict[str, Any]:
        """Per kind: acquisitions, how many had to wait, their total and longest wait, the most waiting
        at once; and how many background waiters went ahead of waiting API callers by aging."""
        with self._mutex:
            out: dict[str, Any] = {k: {**s, "wait_seconds": round(s["wait_seconds"], 3),
                                       "max_wait_seconds": round(s["max_wait_seconds"], 3),
                                       "waiting": len(self._waiting[k])} for k, s in self._stats.items()}
            out["aged"] = self._aged
            out["aging_seconds"] = self.aging_seconds
            return out


class _Hold:
    __slots__ = ("lock", "kind")

    def __init__(self, lock: PriorityLock, kind: str) -> None:
        self.lock, self.kind = lock, kind

    def __enter__(self) -> PriorityLock:
        self.lock.acquire(self.kind)
        return self.lock

    def __exit__(self, *exc: Any) -> None:
        self.lock.release()


# -- the embedded AWS side, under a crowd: whose turn is next (local/aws_server.py) ---------------------

class Turn:
    """One call waiting for its turn (the server runs it when `Turns.next` hands it out)."""
    __slots__ = ("kind", "since", "call", "done")

    def __init__(self, kind: str, since: float, call: Callable[[], Any], done: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        self.kind, self.since, self.call, self.done = kind, since, call, done


class Turns:
    """The order the embedded AWS's one loop runs calls in: `PriorityLock`'s hand-off order (an aged
    background call, else the first API call, else the first background call), plus one rule a lock
    could not have: a background call that has not aged waits for a gap of `api_gap_seconds` in the
    API's calls. An API invocation's next AWS call usually follows its last within a few ms (the
    function's own work in between); without the gap a background call slips in there and the
    client waits for it. No threads, no clock of its own: the server calls `add`, `next` and
    `finished`, and waits as long as `next` says."""

    def __init__(self, aging_seconds: float = DEFAULT_AGING_SECONDS,
                 api_gap_seconds: float = DEFAULT_API_GAP_SECONDS) -> None:
        if aging_seconds < 0 or api_gap_seconds < 0:
            raise ValueError("aging_seconds and api_gap_seconds must be >= 0")
        self.aging_seconds = aging_seconds
        self.api_gap_seconds = api_gap_seconds
        self._waiting: dict[str, collections.deque[Turn]] = {k: collections.deque() for k in KINDS}
        self._stats = {k: {"acquired": 0, "waited": 0, "wait_seconds": 0.0, "max_wait_seconds": 0.0,
                           "max_waiting": 0} for k in KINDS}
        self._aged = 0
        self._api_finished = float("-inf")

    def add(self, turn: Turn) -> None:
        queue = self._waiting[turn.kind]
        queue.append(turn)
        stats = self._stats[turn.kind]
        stats["max_waiting"] = max(stats["max_waiting"], len(queue))

    def next(self, now: float) -> tuple[Turn | None, float | None]:
        """(the call to run now, None), or (None, how long to wait before asking again: None when
        nothing waits at all)."""
        api, background = self._waiting["api"], self._waiting["background"]
        if not api and not background:
            return None, None
        if not api:
            gap = self.api_gap_seconds - (now - self._api_finished)
            aged_in = self.aging_seconds - (now - background[0].since)
            if gap > 0 and aged_in > 0:
                return None, min(gap, aged_in)
        turn, aged = _take_next(self._waiting, now, self.aging_seconds)
        self._aged += aged
        waited = now - turn.since
        stats = self._stats[turn.kind]
        stats["acquired"] += 1
        stats["waited"] += 1
        stats["wait_seconds"] += waited
        stats["max_wait_seconds"] = max(stats["max_wait_seconds"], waited)
        return turn, None

    def finished(self, turn: Turn, now: float) -> None:
        if turn.kind == "api":
            self._api_finished = now

    def waiting(self) -> dict[str, int]:
        return {k: len(q) for k, q in self._waiting.items()}

    def stats(self) -> dict[str, Any]:
        """As `PriorityLock.stats`: per kind, the calls run, their total and longest wait for their
        turn, the most waiting at once, those waiting now; background calls run ahead of waiting API
        calls by aging."""
        out: dict[str, Any] = {k: {**s, "wait_seconds": round(s["wait_seconds"], 3),
                                   "max_wait_seconds": round(s["max_wait_seconds"], 3),
                                   "waiting": len(self._waiting[k])} for k, s in self._stats.items()}
        out["aged"] = self._aged
        out["aging_seconds"] = self.aging_seconds
        out["api_gap_seconds"] = self.api_gap_seconds
        return out

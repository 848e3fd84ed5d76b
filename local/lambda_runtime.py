"""Runs our Lambda handlers in-process the way the Lambda service does.

Each function gets a pool of "containers": separate imports of its
functions/<name>/handler.py, each serving one request at a time (Powertools
resolvers keep the current event on the app object, exactly as they may in a
single-concurrency Lambda container). Busy pools grow up to a limit, like
Lambda scaling out; the first use of a container pays the cold start.

That in-process mode is what tests with in-process moto (mock_aws) use. The local stack
switches to worker processes (use_worker_processes, below): there concurrent requests
cannot share what Powertools keeps per process.
"""
from __future__ import annotations

import collections
import importlib.util
import itertools
import os
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from local.lambda_context import FakeContext

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
MAX_CONTAINERS_PER_FUNCTION = 16
_counter = itertools.count()


class _Pool:
    def __init__(self, name: str) -> None:
        self.name = name
        self._idle: list[ModuleType] = []
        self._total = 0
        self._cond = threading.Condition()

    def _load(self) -> ModuleType:
        path = FUNCTIONS_DIR / self.name / "handler.py"
        spec = importlib.util.spec_from_file_location(f"lambda_{self.name}_{next(_counter)}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def acquire(self) -> ModuleType:
        with self._cond:
            while not self._idle and self._total >= MAX_CONTAINERS_PER_FUNCTION:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._total += 1
        try:
            return self._load()
        except BaseException:
            with self._cond:
                self._total -= 1
                self._cond.notify()
            raise

    def release(self, module: ModuleType) -> None:
        with self._cond:
            self._idle.append(module)
            self._cond.notify()

    @property
    def size(self) -> int:
        return self._total


def _one_metrics_writer_at_a_time() -> None:
    """Each Lambda container has its memory to itself; here every container of every
    function shares one process, and Powertools Metrics keeps its metric set on one
    module-level object. Requests finishing at the same moment would flush it together
    and fail ("Must contain at least one metric", "dictionary changed size during
    iteration") where Lambda never does: its changes are made one at a time."""
    import functools

    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    if getattr(AmazonCloudWatchEMFProvider, "_local_guarded", False):
        return
    lock = threading.RLock()
    for name in ("add_metric", "serialize_metric_set", "add_dimension", "add_dimensions", "add_metadata",
                 "clear_metrics", "flush_metrics", "add_cold_start_metric", "set_default_dimensions"):
        original = getattr(AmazonCloudWatchEMFProvider, name)

        def guarded(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        setattr(AmazonCloudWatchEMFProvider, name, functools.wraps(original)(guarded))
    AmazonCloudWatchEMFProvider._local_guarded = True


_one_metrics_writer_at_a_time()

_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()


def _pool(name: str) -> _Pool:
    with _pools_lock:
        pool = _pools.get(name)
        if pool is None:
            if not (FUNCTIONS_DIR / name / "handler.py").is_file():
                raise LookupError(f"no function {name!r}")
            pool = _pools[name] = _Pool(name)
        return pool


class InvocationTimeout(TimeoutError):
    """The function did not answer within the caller's deadline (API Gateway: 29 s)."""


def invoke(name: str, event: dict[str, Any], *, timeout: float | None = None, kind: str = "background") -> Any:
    """Run the function's handler on `event`. `kind`: "api" when a client waits for the answer (API
    Gateway's integrations and authorizers, IoT Core's authorizer), "background" for the rest (event
    deliveries, stream batches, schedules, asynchronous and workflow invocations): the worker pool
    serves the API first (see below); in-process it changes nothing."""
    if not os.environ.get("STAGE"):
        # On AWS, CDK sets STAGE on every function; here local.stack and the tests set it
        # (to "local", local.resources.LocalNames.env()). No function runs on an assumed stage.
        raise RuntimeError(f"cannot run {name}: STAGE is not set (local.stack and tests/conftest.py set "
                           "STAGE=local)")
    if _workers is not None:
        return _workers.invoke(name, event, timeout, kind)
    return _invoke_here(name, event)


def _invoke_here(name: str, event: dict[str, Any]) -> Any:
    pool = _pool(name)
    module = pool.acquire()
    try:
        return module.handler(event, FakeContext(name))
    finally:
        pool.release(module)


# ------------------------------------------------------------------------------------------
# Containers in worker processes (the local stack): each worker process is one execution
# environment serving one request at a time, as a Lambda container does, so nothing a
# library keeps per process (Powertools' current event on the router class, the Logger's
# correlation id, the Metrics set) can be seen by a concurrent request; and the functions
# run on every core instead of sharing one GIL with the API server. A worker keeps the
# functions it has served imported (warm) and the dispatcher prefers a warm one.
# In-process threads remain for the tests that run moto in-process (mock_aws).
#
# Interactive first. On AWS the work an API request causes later (EventBridge -> SQS -> the
# consumers, stream pumps, schedules, asynchronous invocations, Step Functions tasks) runs on
# capacity of its own and never delays an API answer; here it shares the machine with the API.
# So each invocation says what it is (`kind`): "api" (API Gateway's integrations and
# authorizers, IoT Core's authorizer: a client waits) or "background" (everything else). The
# pool then
#   - hands a freed worker to the waiting API invocations first (in arrival order);
#   - keeps `reserved` of its `size` workers for API invocations only;
#   - runs background invocations first in `background` workers of their own, which lower their
#     CPU priority once at start (os.nice; raising it back would need privileges, so they never
#     serve the API), and lends them the shared workers only while no API invocation waits;
#   - ages: a background invocation that has waited `aging_seconds` takes the next shared
#     worker ahead of the API ones, so a crowd defers background work but never starves it.
# Nothing is dropped: a background invocation waits (its caller keeps the SQS message, the
# stream batch, the schedule) until a worker takes it.
# ------------------------------------------------------------------------------------------

KINDS = ("api", "background")
BACKGROUND_NICE = 10   # +10: a tenth of a normal process's CPU share when both want the CPU (CFS weights)


class _Worker:
    def __init__(self, ctx: Any, *, background_only: bool = False) -> None:
        parent, child = ctx.Pipe()
        self.conn = parent
        self.background_only = background_only
        self.process = ctx.Process(target=_worker_main,
                                   args=(child, BACKGROUND_NICE if background_only else 0), daemon=True)
        self.process.start()
        child.close()
        self.env: dict[str, str] | None = None
        self.warm: set[str] = set()
        self.reserved = False   # set by the pool: serves API invocations only

    def call(self, name: str, event: dict[str, Any], timeout: float | None,
             kind: str = "background") -> tuple[Any, float]:
        """The handler's result and the worker's CPU seconds for it. `kind`: the worker marks the AWS
        calls of an API invocation for the embedded AWS (local/aws_priority.py)."""
        env = dict(os.environ)
        self.conn.send((name, event, env if env != self.env else None, kind))
        self.env = env
        if not self.conn.poll(timeout):
            raise InvocationTimeout(f"{name} did not answer within {timeout} s")
        ok, value, cpu = self.conn.recv()
        self.warm.add(name)
        if not ok:
            raise RuntimeError(value)
        return value, cpu

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(timeout=5)
        except Exception:  # noqa: BLE001
            pass
        self.conn.close()


class _Waiter:
    __slots__ = ("kind", "name", "since", "worker", "grow", "cond")

    def __init__(self, kind: str, name: str, lock: Any, since: float) -> None:
        self.kind, self.name, self.since = kind, name, since
        self.cond = threading.Condition(lock)   # its own: a hand-off wakes the one thread it is for
        self.worker: Any = None     # the worker handed to it
        self.grow: str | None = None  # or: a new worker of this class ("shared", "reserved", "background") to start


class _KindStats:
    __slots__ = ("invocations", "cpu_seconds", "wait_seconds", "max_wait_seconds", "run_seconds", "failed",
                 "on_background_workers", "aged")

    def __init__(self) -> None:
        self.invocations = self.failed = self.on_background_workers = self.aged = 0
        self.cpu_seconds = self.wait_seconds = self.max_wait_seconds = self.run_seconds = 0.0


class _WorkerPool:
    def __init__(self, size: int, *, reserved: int = 0, background: int = 0, aging_seconds: float = 10.0,
                 api_first: bool = True) -> None:
        import multiprocessing

        if not 0 <= reserved <= size or background < 0:
            raise ValueError(f"bad pool: size {size}, reserved {reserved}, background {background}")
        if size and reserved == size and background == 0:
            raise ValueError("every worker reserved for the API and none for background work")
        # forkserver: workers fork from one clean, single-threaded process that has already
        # imported the domain package and its libraries, so a new worker starts in milliseconds.
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["local.lambda_warm"])
        self.size, self.reserved, self.background, self.aging_seconds = size, reserved, background, aging_seconds
        # api_first=False: first come first served whatever the kind (the pool before this change; measurements)
        self.api_first = api_first
        self._idle: list[Any] = []
        self._all: list[Any] = []      # workers and placeholders of workers being started
        self._count = {"reserved": 0, "shared": 0, "background": 0}
        self._api_waiting: collections.deque[_Waiter] = collections.deque()
        self._bg_waiting: collections.deque[_Waiter] = collections.deque()
        self.clock = time.monotonic   # aging's clock (tests move their own)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._stats = {kind: _KindStats() for kind in KINDS}
        self._running = {kind: 0 for kind in KINDS}
        self._max_waiting = {kind: 0 for kind in KINDS}

    # -- workers ---------------------------------------------------------------------------
    def _new_worker(self, background_only: bool) -> Any:
        return _Worker(self._ctx, background_only=background_only)

    def _class_to_grow(self, kind: str) -> str | None:
        """Which class of worker an invocation of `kind` may start now (under the lock)."""
        if kind == "background":
            if self._count["background"] < self.background:
                return "background"
            if self._count["shared"] < self.size - self.reserved and not self._api_waiting:
                return "shared"
            return None
        if self._count["reserved"] < self.reserved:
            return "reserved"
        if self._count["shared"] < self.size - self.reserved:
            return "shared"
        return None

    def _start_worker(self, worker_class: str) -> Any:
        try:
            worker = self._new_worker(worker_class == "background")
        except BaseException:
            with self._cond:
                self._count[worker_class] -= 1
                self._dispatch()
            raise
        worker.reserved = worker_class == "reserved"
        with self._cond:
            self._all.append(worker)
        return worker

    def start(self, count: int) -> None:
        """Start `count` API-capable workers and every background worker now (the stack does, so
        the first crowd meets warm processes)."""
        plan: list[str] = []
        with self._cond:
            for _ in range(min(count, self.size)):
                worker_class = self._class_to_grow("api")
                if worker_class is None:
                    break
                self._count[worker_class] += 1
                plan.append(worker_class)
            while self._count["background"] < self.background:
                self._count["background"] += 1
                plan.append("background")
        made = [self._start_worker(worker_class) for worker_class in plan]
        with self._cond:
            self._idle += made
            self._dispatch()

    # -- who gets a worker -----------------------------------------------------------------
    def _take_idle(self, kind: str, name: str, *, shared_ok: bool = True) -> Any:
        """An idle worker an invocation of `kind` may use (warm for `name` first), or None."""
        def usable(worker: Any) -> bool:
            if kind == "api":
                return not worker.background_only
            return worker.background_only or (shared_ok and not worker.reserved)

        candidates = [w for w in self._idle if usable(w)]
        if kind == "background":   # its own workers first, then a shared one
            own = [w for w in candidates if w.background_only]
            candidates = own or candidates
        if not candidates:
            return None
        worker = next((w for w in reversed(candidates) if name in w.warm), candidates[-1])
        self._idle.remove(worker)
        return worker

    def _dispatch(self) -> None:
        """Hand idle workers (and room to grow) to waiters, in priority order (under the lock)."""
        progress = True
        while progress and (self._api_waiting or self._bg_waiting):
            progress = False
            now = self.clock()
            if not self.api_first:   # the oldest waiter of either kind, on any worker
                queues = [q for q in (self._api_waiting, self._bg_waiting) if q]
                progress = self._serve(min(queues, key=lambda q: q[0].since), shared_ok=True)
                continue
            # 1. a background invocation that has waited too long: any worker it may use
            if self._bg_waiting and now - self._bg_waiting[0].since >= self.aging_seconds:
                if self._serve(self._bg_waiting, shared_ok=True, aged=True):
                    progress = True
                    continue
            # 2. the API, in arrival order
            if self._api_waiting and self._serve(self._api_waiting, shared_ok=True):
                progress = True
                continue
            # 3. background: its own workers always; shared ones while no API invocation waits
            if self._bg_waiting and self._serve(self._bg_waiting, shared_ok=not self._api_waiting):
                progress = True

    def _serve(self, queue: "collections.deque[_Waiter]", *, shared_ok: bool, aged: bool = False) -> bool:
        waiter = queue[0]
        worker = self._take_idle(waiter.kind, waiter.name, shared_ok=shared_ok)
        if worker is None:
            grow = self._class_to_grow(waiter.kind) if (shared_ok or waiter.kind == "api") else (
                "background" if self._count["background"] < self.background else None)
            if aged and grow is None and self._count["shared"] < self.size - self.reserved:
                grow = "shared"
            if grow is None:
                return False
            self._count[grow] += 1
            waiter.grow = grow
        else:
            waiter.worker = worker
        if aged:
            self._stats["background"].aged += 1
        queue.popleft()
        waiter.cond.notify()
        return True

    def _acquire(self, name: str, deadline: float | None, kind: str = "background") -> Any:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        waiter = _Waiter(kind, name, self._lock, self.clock())
        queue = self._api_waiting if kind == "api" else self._bg_waiting
        with self._cond:
            queue.append(waiter)
            self._max_waiting[kind] = max(self._max_waiting[kind], len(queue))
            self._dispatch()
            while waiter.worker is None and waiter.grow is None:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:   # waiting for a container counts too
                    queue.remove(waiter)
                    self._dispatch()
                    raise InvocationTimeout(f"no execution environment for {name} in time")
                # background: a wake-up at least every second (aging is a matter of time, not of a release)
                limit = 1.0 if kind == "background" else None
                waiter.cond.wait(remaining if limit is None else limit if remaining is None else min(limit, remaining))
                if waiter.worker is None and waiter.grow is None:
                    self._dispatch()
            waited = self.clock() - waiter.since
            stats = self._stats[kind]
            stats.wait_seconds += waited
            stats.max_wait_seconds = max(stats.max_wait_seconds, waited)
            self._running[kind] += 1
        worker = waiter.worker if waiter.worker is not None else self._start_worker(waiter.grow)
        if kind == "background" and worker.background_only:
            with self._cond:
                self._stats["background"].on_background_workers += 1
        return worker

    def _release(self, worker: Any, broken: bool, kind: str = "background") -> None:
        with self._cond:
            self._running[kind] -= 1
            if worker not in self._all:   # the pool was stopped meanwhile
                broken = True
            elif broken:
                self._all.remove(worker)
                self._count["background" if worker.background_only else
                            "reserved" if worker.reserved else "shared"] -= 1
            else:
                self._idle.append(worker)
            self._dispatch()
        if broken:
            worker.kill()

    def invoke(self, name: str, event: dict[str, Any], timeout: float | None, kind: str = "background") -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        worker = self._acquire(name, deadline, kind)
        broken = False
        started = time.monotonic()
        cpu = 0.0
        try:
            value, cpu = worker.call(name, event, None if deadline is None else max(0.0, deadline - time.monotonic()),
                                     kind)
            return value
        except InvocationTimeout:
            broken = True   # still busy with the request: it is not given another
            raise
        except (EOFError, OSError, BrokenPipeError):
            broken = True   # the worker died (its request is lost, as with a crashed container)
            raise RuntimeError(f"the worker running {name} died")
        finally:
            with self._cond:
                stats = self._stats[kind]
                stats.invocations += 1
                stats.cpu_seconds += cpu
                stats.run_seconds += time.monotonic() - started
                stats.failed += sys.exc_info()[0] is not None
            self._release(worker, broken, kind)

    def stats(self) -> dict[str, Any]:
        """Per kind: invocations, worker CPU and run seconds, queue wait, waiting and running now."""
        with self._cond:
            out: dict[str, Any] = {kind: {
                "invocations": s.invocations, "failed": s.failed, "cpu_seconds": round(s.cpu_seconds, 3),
                "run_seconds": round(s.run_seconds, 3), "wait_seconds": round(s.wait_seconds, 3),
                "max_wait_seconds": round(s.max_wait_seconds, 3), "max_waiting": self._max_waiting[kind],
                "running": self._running[kind],
                "waiting": len(self._api_waiting if kind == "api" else self._bg_waiting),
            } for kind, s in self._stats.items()}
            out["background"]["on_background_workers"] = self._stats["background"].on_background_workers
            out["background"]["aged"] = self._stats["background"].aged
            out["workers"] = {**self._count, "idle": len(self._idle)}
            return out

    def stop(self) -> None:
        with self._cond:
            workers, self._all, self._idle = list(self._all), [], []
            self._count = {"reserved": 0, "shared": 0, "background": 0}
        for worker in workers:
            worker.kill()


def _worker_main(conn: Any, nice: int = 0) -> None:
    """One execution environment: the functions' handlers, one request at a time."""
    import traceback

    from local import aws_priority

    aws_priority.install()   # done by the forkserver's preload (local.lambda_warm) before any botocore session
    if nice:
        os.nice(nice)   # a background-only worker: lower CPU priority for good (no privilege to raise it back)
    while True:
        try:
            name, event, env, *rest = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        # the AWS calls this invocation makes say whether a client waits (X-Local-Priority: api)
        aws_priority.set_current_kind(rest[0] if rest and rest[0] in aws_priority.KINDS else "background")
        cpu_before = time.process_time()
        if env is not None and env != dict(os.environ):
            os.environ.clear()
            os.environ.update(env)
            reset()   # settings are read at import: new ones need new containers
        try:
            reply = (True, _invoke_here(name, event), 0.0)
        except Exception as exc:  # noqa: BLE001 - reported to the caller, logged as Lambda logs it
            reply = (False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}", 0.0)
        reply = (reply[0], reply[1], time.process_time() - cpu_before)
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


_workers: _WorkerPool | None = None


def use_worker_processes(size: int, *, start: int = 0, reserved: int = 0, background: int = 0,
                         aging_seconds: float = 10.0, api_first: bool = True) -> None:
    """Run every function in worker processes from now on: at most `size` that serve the API
    (`reserved` of them the API only) plus `background` ones at a lower CPU priority for the
    background work; `start` API-capable workers (and every background one) now."""
    global _workers
    if _workers is None:
        _workers = _WorkerPool(size, reserved=reserved, background=background, aging_seconds=aging_seconds,
                               api_first=api_first)
    _workers.start(start)


def worker_stats() -> dict[str, Any] | None:
    """The worker pool's figures per caller kind (None in-process)."""
    return None if _workers is None else _workers.stats()


def stop_worker_processes() -> None:
    global _workers
    pool, _workers = _workers, None
    if pool is not None:
        pool.stop()


def reset() -> None:
    """Forget every container (tests that change settings between cases)."""
    with _pools_lock:
        _pools.clear()
    if _workers is not None:
        _workers.stop()   # new workers start on demand, with the current settings

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

import importlib.util
import itertools
import os
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


def invoke(name: str, event: dict[str, Any], *, timeout: float | None = None) -> Any:
    if not os.environ.get("STAGE"):
        # On AWS, CDK sets STAGE on every function; here local.stack and the tests set it
        # (to "local", local.resources.LocalNames.env()). No function runs on an assumed stage.
        raise RuntimeError(f"cannot run {name}: STAGE is not set (local.stack and tests/conftest.py set "
                           "STAGE=local)")
    if _workers is not None:
        return _workers.invoke(name, event, timeout)
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
# ------------------------------------------------------------------------------------------

class _Worker:
    def __init__(self, ctx: Any) -> None:
        parent, child = ctx.Pipe()
        self.conn = parent
        self.process = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.env: dict[str, str] | None = None
        self.warm: set[str] = set()

    def call(self, name: str, event: dict[str, Any], timeout: float | None) -> Any:
        env = dict(os.environ)
        self.conn.send((name, event, env if env != self.env else None))
        self.env = env
        if not self.conn.poll(timeout):
            raise InvocationTimeout(f"{name} did not answer within {timeout} s")
        ok, value = self.conn.recv()
        self.warm.add(name)
        if not ok:
            raise RuntimeError(value)
        return value

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(timeout=5)
        except Exception:  # noqa: BLE001
            pass
        self.conn.close()


class _WorkerPool:
    def __init__(self, size: int) -> None:
        import multiprocessing

        # forkserver: workers fork from one clean, single-threaded process that has already
        # imported the domain package and its libraries, so a new worker starts in milliseconds.
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["local.lambda_warm"])
        self.size = size
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._cond = threading.Condition()

    def start(self, count: int) -> None:
        """Start `count` workers now (the stack does, so the first crowd meets warm processes)."""
        made = [_Worker(self._ctx) for _ in range(min(count, self.size))]
        with self._cond:
            self._all += made
            self._idle += made
            self._cond.notify_all()

    def _acquire(self, name: str, deadline: float | None) -> _Worker:
        with self._cond:
            while True:
                for worker in reversed(self._idle):
                    if name in worker.warm:
                        self._idle.remove(worker)
                        return worker
                if self._idle:
                    return self._idle.pop()
                if len(self._all) < self.size:
                    placeholder = object()
                    self._all.append(placeholder)  # type: ignore[arg-type]
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:   # waiting for a container counts too
                    raise InvocationTimeout(f"no execution environment for {name} in time")
                self._cond.wait(remaining)
        try:
            worker = _Worker(self._ctx)
        except BaseException:
            with self._cond:
                self._all.remove(placeholder)  # type: ignore[arg-type]
                self._cond.notify()
            raise
        with self._cond:
            self._all[self._all.index(placeholder)] = worker  # type: ignore[arg-type]
        return worker

    def _release(self, worker: _Worker, broken: bool) -> None:
        with self._cond:
            if worker not in self._all:   # the pool was stopped meanwhile
                broken = True
            elif broken:
                self._all.remove(worker)
            else:
                self._idle.append(worker)
            self._cond.notify()
        if broken:
            worker.kill()

    def invoke(self, name: str, event: dict[str, Any], timeout: float | None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        worker = self._acquire(name, deadline)
        broken = False
        try:
            return worker.call(name, event, None if deadline is None else max(0.0, deadline - time.monotonic()))
        except InvocationTimeout:
            broken = True   # still busy with the request: it is not given another
            raise
        except (EOFError, OSError, BrokenPipeError):
            broken = True   # the worker died (its request is lost, as with a crashed container)
            raise RuntimeError(f"the worker running {name} died")
        finally:
            self._release(worker, broken)

    def stop(self) -> None:
        with self._cond:
            workers, self._all, self._idle = [w for w in self._all if isinstance(w, _Worker)], [], []
        for worker in workers:
            worker.kill()


def _worker_main(conn: Any) -> None:
    """One execution environment: the functions' handlers, one request at a time."""
    import traceback

    while True:
        try:
            name, event, env = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if env is not None and env != dict(os.environ):
            os.environ.clear()
            os.environ.update(env)
            reset()   # settings are read at import: new ones need new containers
        try:
            reply = (True, _invoke_here(name, event))
        except Exception as exc:  # noqa: BLE001 - reported to the caller, logged as Lambda logs it
            reply = (False, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return


_workers: _WorkerPool | None = None


def use_worker_processes(size: int, *, start: int = 0) -> None:
    """Run every function in worker processes from now on (at most `size`, `start` of them now)."""
    global _workers
    if _workers is None:
        _workers = _WorkerPool(size)
    _workers.start(start)


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

"""The local stack's function worker pool serves the API first (local/lambda_runtime.py _WorkerPool):
API waiters before background ones, workers reserved for the API, background-only workers at a lower
CPU priority, and aging so a background invocation is deferred under a crowd, never starved.
The pool's scheduling runs here on fake workers (no processes); one test starts a real worker process
to check its CPU priority."""
from __future__ import annotations

import os
import threading

import pytest

from local import lambda_runtime
from local.lambda_runtime import InvocationTimeout, _WorkerPool
from tests.polling import poll


class FakeWorker:
    def __init__(self, background_only: bool) -> None:
        self.background_only = background_only
        self.reserved = False
        self.warm: set[str] = set()
        self.killed = False
        self.kinds: list[str] = []   # the kinds the pool passed (the worker marks its AWS calls by it)

    def call(self, name, event, timeout, kind="background"):
        self.kinds.append(kind)
        return {"ran": name, "background_only": self.background_only, "reserved": self.reserved}, 0.01

    def kill(self) -> None:
        self.killed = True


class FakePool(_WorkerPool):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.now = 0.0
        self.clock = lambda: self.now

    def _new_worker(self, background_only: bool) -> FakeWorker:
        return FakeWorker(background_only)


def _waiter(pool: FakePool, kind: str, name: str, got: list):
    """A thread that acquires a worker for `kind` and records (name, worker) when it gets one."""
    def run() -> None:
        got.append((name, pool._acquire(name, None, kind)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _queued(pool: FakePool, kind: str, n: int) -> bool:
    with pool._cond:
        return len(pool._api_waiting if kind == "api" else pool._bg_waiting) == n


def test_a_freed_worker_goes_to_the_waiting_api_invocation_before_an_earlier_background_one():
    pool = FakePool(1)
    held = pool._acquire("orders_api", None, "api")
    got: list = []
    bg = _waiter(pool, "background", "order_events", got)
    assert poll(lambda: _queued(pool, "background", 1), 5)
    api = _waiter(pool, "api", "rooms_api", got)
    assert poll(lambda: _queued(pool, "api", 1), 5)

    pool._release(held, False, "api")
    assert poll(lambda: len(got) == 1, 5)
    assert got[0][0] == "rooms_api"          # the API first, though the background one came earlier
    assert _queued(pool, "background", 1)    # still waiting, not dropped
    pool._release(got[0][1], False, "api")
    api.join(5)
    bg.join(5)
    assert [name for name, _ in got] == ["rooms_api", "order_events"]   # then the background one runs


def test_background_runs_on_a_shared_worker_while_no_api_invocation_waits():
    pool = FakePool(2)
    assert pool.invoke("order_events", {}, None, "background")["ran"] == "order_events"
    stats = pool.stats()
    assert stats["background"]["invocations"] == 1 and stats["api"]["invocations"] == 0
    assert stats["background"]["cpu_seconds"] == pytest.approx(0.01)
    pool.invoke("rooms_api", {}, None, "api")
    # the worker is told the kind it runs (it marks that invocation's AWS calls: local/aws_priority.py)
    assert sorted(k for w in pool._idle for k in w.kinds) == ["api", "background"]


def test_reserved_workers_serve_the_api_only():
    pool = FakePool(2, reserved=1)
    first = pool._acquire("order_events", None, "background")
    assert not first.reserved
    with pytest.raises(InvocationTimeout):   # the other worker is the API's
        pool._acquire("order_events", __import__("time").monotonic() + 0.2, "background")
    api = pool._acquire("rooms_api", None, "api")
    assert api.reserved
    assert pool.stats()["workers"]["reserved"] == 1 and pool.stats()["workers"]["shared"] == 1


def test_background_only_workers_take_background_work_first_and_never_the_api():
    pool = FakePool(1, reserved=1, background=1)
    pool.start(1)
    bg = pool._acquire("order_events", None, "background")
    assert bg.background_only
    pool._release(bg, False, "background")
    api = pool._acquire("rooms_api", None, "api")
    assert not api.background_only
    with pytest.raises(InvocationTimeout):   # the idle background-only worker is no API worker
        pool._acquire("me_api", __import__("time").monotonic() + 0.2, "api")
    assert pool.stats()["background"]["on_background_workers"] == 1


def test_a_background_invocation_waiting_past_the_aging_time_goes_before_later_api_invocations():
    pool = FakePool(1, aging_seconds=10)
    held = pool._acquire("orders_api", None, "api")
    got: list = []
    _waiter(pool, "background", "order_events", got)
    assert poll(lambda: _queued(pool, "background", 1), 5)
    pool.now += 10                        # it has waited its aging time
    _waiter(pool, "api", "rooms_api", got)
    assert poll(lambda: _queued(pool, "api", 1), 5)

    pool._release(held, False, "api")     # a sustained crowd: an API invocation always waits
    assert poll(lambda: len(got) == 1, 5)
    assert got[0][0] == "order_events"
    assert pool.stats()["background"]["aged"] == 1
    assert pool.stats()["background"]["max_wait_seconds"] == pytest.approx(10)


def test_a_pool_that_leaves_nothing_for_background_work_is_refused():
    with pytest.raises(ValueError):
        FakePool(2, reserved=2)
    with pytest.raises(ValueError):
        lambda_runtime._WorkerPool(2, reserved=3)


def test_a_background_only_worker_process_runs_at_a_lower_cpu_priority():
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=lambda_runtime._worker_main, args=(child, lambda_runtime.BACKGROUND_NICE),
                          daemon=True)
    process.start()
    try:
        parent.send(("no_such_function", {}, None))   # answered (an error) once its nice is set
        assert parent.poll(30)
        ok, message, cpu = parent.recv()
        assert not ok and "no_such_function" in message and cpu >= 0
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == min(19, mine + lambda_runtime.BACKGROUND_NICE)
    finally:
        process.kill()
        process.join(5)


def test_first_come_first_served_when_api_first_is_off():
    pool = FakePool(1, api_first=False)
    held = pool._acquire("orders_api", None, "api")
    got: list = []
    _waiter(pool, "background", "order_events", got)
    assert poll(lambda: _queued(pool, "background", 1), 5)
    pool.now += 1
    _waiter(pool, "api", "rooms_api", got)
    assert poll(lambda: _queued(pool, "api", 1), 5)
    pool._release(held, False, "api")
    assert poll(lambda: len(got) == 1, 5)
    assert got[0][0] == "order_events"

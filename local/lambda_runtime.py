"""Runs our Lambda handlers in-process the way the Lambda service does.

Each function gets a pool of "containers": separate imports of its
functions/<name>/handler.py, each serving one request at a time (Powertools
resolvers keep the current event on the app object, exactly as they may in a
single-concurrency Lambda container). Busy pools grow up to a limit, like
Lambda scaling out; the first use of a container pays the cold start.
"""
from __future__ import annotations

import importlib.util
import itertools
import os
import threading
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


def invoke(name: str, event: dict[str, Any]) -> Any:
    if not os.environ.get("STAGE"):
        # On AWS, CDK sets STAGE on every function; here local.stack and the tests set it
        # (to "local", local.resources.LocalNames.env()). No function runs on an assumed stage.
        raise RuntimeError(f"cannot run {name}: STAGE is not set (local.stack and tests/conftest.py set "
                           "STAGE=local)")
    pool = _pool(name)
    module = pool.acquire()
    try:
        return module.handler(event, FakeContext(name))
    finally:
        pool.release(module)


def reset() -> None:
    """Forget every container (tests that change settings between cases)."""
    with _pools_lock:
        _pools.clear()

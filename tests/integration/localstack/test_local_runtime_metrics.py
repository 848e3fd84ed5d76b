"""The local Lambda runtime runs every container in one process, where Powertools Metrics
is one shared object: concurrent requests must not fail flushing it, as they never do on
Lambda (each container has its own). Without the runtime's guard this loop fails with
"Must contain at least one metric" or "dictionary changed size during iteration"."""
from __future__ import annotations

import contextlib
import io
import sys
import threading

import local.lambda_runtime  # noqa: F401 - installs the guard


def test_concurrent_requests_flush_shared_metrics_without_failing(monkeypatch):
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "LocalTest")
    metrics = Metrics(service="guard")
    errors: list[str] = []

    @metrics.log_metrics
    def handler(n: int, context: object) -> None:
        metrics.add_metric(name=f"Hits{n % 13}", unit=MetricUnit.Count, value=1)

    def requests(first: int) -> None:
        for n in range(first, first + 1000):
            try:
                handler(n, None)
            except Exception as exc:  # noqa: BLE001 - what a crashed request would raise
                errors.append(repr(exc))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)              # switch threads as often as possible
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            threads = [threading.Thread(target=requests, args=(k * 1000,)) for k in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []

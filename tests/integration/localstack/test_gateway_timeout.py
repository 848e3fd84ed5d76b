"""The local gateway stops waiting for a function after API Gateway's 29 s integration
timeout and answers 504 with the INTEGRATION_TIMEOUT gateway response (problem+json), as
the deployed API does; waiting for a free execution environment counts towards it."""
from __future__ import annotations

import time

import pytest

from livecommerce.shared.gateway_responses import GATEWAY_RESPONSES, body_for

pytestmark = pytest.mark.integration


def test_a_function_past_the_integration_timeout_is_a_504_problem(monkeypatch):
    from local import gateway, lambda_runtime

    seen = {}

    def slow(name, event, *, timeout=None, kind="background"):
        seen["timeout"], seen["kind"] = timeout, kind
        raise lambda_runtime.InvocationTimeout(f"{name} did not answer within {timeout} s")

    monkeypatch.setattr(gateway, "invoke", slow)
    answer = gateway.handle("GET", "/v1/rooms")
    assert 28.0 < seen["timeout"] <= gateway.INTEGRATION_TIMEOUT_SECONDS == 29.0
    assert seen["kind"] == "api"   # a client waits: the worker pool serves it before background work
    assert answer.status == 504 == GATEWAY_RESPONSES["INTEGRATION_TIMEOUT"][0]
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.body == body_for("INTEGRATION_TIMEOUT")
    assert answer.json()["code"] == "gateway_timeout"


def test_waiting_for_an_execution_environment_counts_towards_the_deadline():
    from local import lambda_runtime

    pool = lambda_runtime._WorkerPool(0)   # no environment will ever be free
    began = time.monotonic()
    with pytest.raises(lambda_runtime.InvocationTimeout):
        pool.invoke("rooms", {}, 0.2)
    assert time.monotonic() - began < 5

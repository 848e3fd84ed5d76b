"""Asks one of our functions to do something at a moment: one asynchronous Lambda
invocation (InvocationType=Event), so the caller answers at once.

The callee is named by an environment variable `<NAME>_FUNCTION`, which CDK sets
together with lambda:InvokeFunction on that one function (FunctionSpec.invokes).
On the local stack AWS_ENDPOINT_URL_LAMBDA points at local.lambda_api, which
speaks the same Invoke API and runs the same handler."""
from __future__ import annotations

import json
import os
from typing import Any

from livecommerce.shared import aws
from livecommerce.shared.observability import logger


def function_env(name: str) -> str:
    return f"{name.upper()}_FUNCTION"


def invoke_async(callee: str, payload: dict[str, Any]) -> bool:
    """True when the invocation was queued (202); False, logged, when it could not be
    (the function is not configured, throttling, a missing function): the caller falls back."""
    function = os.environ.get(function_env(callee))
    if not function:
        return False
    try:
        response = aws.client("lambda").invoke(FunctionName=function, InvocationType="Event",
                                                Payload=json.dumps(payload).encode())
    except Exception as exc:  # noqa: BLE001 - the caller has a fallback for every failure
        logger.warning("asynchronous invocation failed", extra={"callee": callee, "error": type(exc).__name__})
        return False
    return int(response.get("StatusCode") or 0) == 202

"""Asks the realtime batcher to publish a room's waiting danmaku at a slot time:
one asynchronous Lambda invocation (InvocationType=Event), so the API call that
claimed the slot answers at once instead of waiting for it.

The function is named by REALTIME_BATCHER_FUNCTION (CDK sets it, with
lambda:InvokeFunction on that function only). On the local stack
AWS_ENDPOINT_URL_LAMBDA points at local.lambda_api, which speaks the same
Invoke API and runs the same handler."""
from __future__ import annotations

import json
import os

from livecommerce.shared import aws
from livecommerce.shared.observability import logger

FUNCTION_ENV = "REALTIME_BATCHER_FUNCTION"


def flush_event(room_id: str, not_before_ms: int) -> dict:
    return {"flush": {"gate": "danmaku", "room_id": room_id, "not_before_ms": int(not_before_ms)}}


def request_flush(room_id: str, not_before_ms: int) -> bool:
    """True when the batcher was asked; False (logged) when it could not be, and the
    caller should publish the slot itself."""
    function = os.environ.get(FUNCTION_ENV)
    if not function:
        return False
    try:
        response = aws.client("lambda").invoke(FunctionName=function, InvocationType="Event",
                                                Payload=json.dumps(flush_event(room_id, not_before_ms)).encode())
    except Exception as exc:  # noqa: BLE001 - throttling, a missing function: fall back to waiting here
        logger.warning("danmaku flush request failed", extra={"room_id": room_id, "error": type(exc).__name__})
        return False
    return int(response.get("StatusCode") or 0) == 202

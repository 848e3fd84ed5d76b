"""Asks the realtime batcher to publish a room's waiting danmaku at a slot time:
one asynchronous Lambda invocation (livecommerce.shared.async_invoke), so the API
call that claimed the slot answers at once instead of waiting for it. The batcher
is named by REALTIME_BATCHER_FUNCTION."""
from __future__ import annotations

from livecommerce.shared.async_invoke import function_env, invoke_async

CALLEE = "realtime_batcher"
FUNCTION_ENV = function_env(CALLEE)


def flush_event(room_id: str, not_before_ms: int) -> dict:
    return {"flush": {"gate": "danmaku", "room_id": room_id, "not_before_ms": int(not_before_ms)}}


def request_flush(room_id: str, not_before_ms: int) -> bool:
    """True when the batcher was asked; False (logged) when it could not be, and the
    caller should publish the slot itself."""
    return invoke_async(CALLEE, flush_event(room_id, not_before_ms))


LIKES_CHECK = "likes_check"


def likes_check_event(room_id: str, not_before_ms: int) -> dict:
    return {"flush": {"gate": LIKES_CHECK, "room_id": room_id, "not_before_ms": int(not_before_ms)}}


def request_likes_check(room_id: str, not_before_ms: int) -> bool:
    """Ask the batcher to check at `not_before_ms` that the room's recorded like total went out
    (interaction.batcher.check_likes). False (logged) when it could not be asked."""
    return invoke_async(CALLEE, likes_check_event(room_id, not_before_ms))

"""Settings of the interaction context, from environment variables (CDK sets
them on the functions, the local stack sets the same names)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from livecommerce.interaction import delivery
from livecommerce.shared.settings import get_settings


@dataclass(frozen=True)
class InteractionSettings:
    stage: str
    # The MQTT-over-WebSocket URL clients connect to (wss://<ats endpoint>/mqtt on AWS).
    realtime_endpoint: str
    # Name of the IoT Core custom authorizer ("" locally: the broker has one).
    authorizer_name: str
    # Danmaku text and moderation.
    max_text_chars: int
    blocked_words: tuple[str, ...]
    user_max_messages: int
    user_window_seconds: int
    host_max_messages: int
    duplicate_window_seconds: int
    flood_max_identical: int
    flood_window_seconds: int
    retention_days: int
    write_shards: int
    # Density: one batch per room at most every `batch_interval_ms`, at most
    # `batch_max_messages` entries (host messages always on top).
    batch_interval_ms: int
    batch_max_messages: int
    # Likes.
    like_shards: int
    like_max_per_request: int
    like_user_cap: int
    like_user_window_seconds: int
    # Push mode: the like total rides on the danmaku batches; a separate like message (state/likes)
    # only when nothing went out for this long, so an idle room's count still moves (density.simulate_push).
    like_broadcast_interval_ms: int
    # Live broadcasts.
    stock_broadcast_interval_ms: int
    # Crowd danmaku read from the edge (GET .../feed) from this many viewers on, when the audience
    # is known (interaction.delivery); 0: only the room setting switches.
    poll_above_viewers: int
    # At most one audience switch per room in this many seconds (the rule's hysteresis in time).
    delivery_switch_gap_seconds: int
    # How often poll-mode clients read the feed (interaction.delivery.poll_interval): every
    # `poll_interval_ms` past the switch, every `slow_poll_interval_ms` from `slow_poll_from_viewers`.
    poll_interval_ms: int
    slow_poll_interval_ms: int
    slow_poll_from_viewers: int
    metadata_interval_ms: int


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


@lru_cache(maxsize=1)
def get_interaction_settings() -> InteractionSettings:
    words = os.environ.get("DANMAKU_BLOCKED_WORDS", "")
    return InteractionSettings(
        stage=get_settings().stage,
        realtime_endpoint=os.environ.get("REALTIME_ENDPOINT", "ws://127.0.0.1:8083/mqtt"),
        authorizer_name=os.environ.get("REALTIME_AUTHORIZER_NAME", ""),
        max_text_chars=_int("DANMAKU_MAX_CHARS", 60),
        blocked_words=tuple(w.strip() for w in words.split(",") if w.strip()),
        user_max_messages=_int("DANMAKU_USER_MAX_MESSAGES", 3),
        user_window_seconds=_int("DANMAKU_USER_WINDOW_SECONDS", 5),
        host_max_messages=_int("DANMAKU_HOST_MAX_MESSAGES", 10),
        duplicate_window_seconds=_int("DANMAKU_DUPLICATE_WINDOW_SECONDS", 30),
        flood_max_identical=_int("DANMAKU_FLOOD_MAX_IDENTICAL", 20),
        flood_window_seconds=_int("DANMAKU_FLOOD_WINDOW_SECONDS", 10),
        retention_days=_int("DANMAKU_RETENTION_DAYS", 30),
        write_shards=_int("DANMAKU_WRITE_SHARDS", 8),
        batch_interval_ms=_int("DANMAKU_BATCH_INTERVAL_MS", 200),
        batch_max_messages=_int("DANMAKU_BATCH_MAX_MESSAGES", 10),
        like_shards=_int("LIKE_SHARDS", 16),
        like_max_per_request=_int("LIKE_MAX_PER_REQUEST", 200),
        like_user_cap=_int("LIKE_USER_CAP", 600),
        like_user_window_seconds=_int("LIKE_USER_WINDOW_SECONDS", 60),
        like_broadcast_interval_ms=_int("LIKE_BROADCAST_INTERVAL_MS", 2000),
        poll_above_viewers=_int("DANMAKU_POLL_ABOVE_VIEWERS", delivery.POLL_ABOVE_VIEWERS),
        delivery_switch_gap_seconds=_int("DANMAKU_DELIVERY_SWITCH_GAP_SECONDS", 60),
        poll_interval_ms=_int("DANMAKU_POLL_INTERVAL_MS", delivery.POLL_INTERVAL_MS),
        slow_poll_interval_ms=_int("DANMAKU_SLOW_POLL_INTERVAL_MS", delivery.SLOW_POLL_INTERVAL_MS),
        slow_poll_from_viewers=_int("DANMAKU_SLOW_POLL_FROM_VIEWERS", delivery.SLOW_POLL_FROM_VIEWERS),
        stock_broadcast_interval_ms=_int("STOCK_BROADCAST_INTERVAL_MS", 1000),
        metadata_interval_ms=_int("TIMED_METADATA_INTERVAL_MS", 200),
    )


def reset_interaction_settings() -> None:
    get_interaction_settings.cache_clear()

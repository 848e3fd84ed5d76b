"""Analytics: behaviour events, statistics, tags and exports.

The public face for other contexts: the viewer tags (pure rules over one viewer's facts in one
session) and `run_query`, the query port (`queries.run`: one SQL file of `sql/`, DuckDB locally,
Athena on AWS; a function that calls it says `FunctionSpec(queries_analytics=True)`).
"""
from __future__ import annotations

from typing import Any

from livecommerce.analytics.facts import DanmakuSent, LikesAdded, LotteryEntrant, StoreFact
from livecommerce.analytics.tags import HIGH_INTENT_WATCH_SECONDS, RULES as TAG_RULES, TAGS, ViewerFacts, tags_of
from livecommerce.shared.ttl_cache import TtlCache

__all__ = ["DanmakuSent", "LikesAdded", "LotteryEntrant", "StoreFact", "HIGH_INTENT_WATCH_SECONDS", "TAGS", "TAG_RULES", "ViewerFacts", "live_viewers", "record_facts", "room_list", "run_query", "tags_of"]

# A room's live viewer count, per container: one read of its counter shards at most every 2 s.
_viewers: TtlCache[str, int] = TtlCache(2.0)


def live_viewers(room_id: str) -> int:
    """How many realtime clients are in the room now (IoT Core lifecycle events, analytics.live): one
    BatchGet of the room's online counter shards, cached 2 s per container. The caller's function
    reads the LiveStats table (`FunctionSpec(tables_read=("LiveStats",))`)."""
    from livecommerce.analytics import live  # deferred: pynamodb, not paid at face import

    return _viewers.get(room_id, lambda: live.online_now(room_id))


def run_query(name: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of `sql/<name>.sql` with its `:name` parameters bound (livecommerce.analytics.queries.run)."""
    from livecommerce.analytics import queries  # deferred: the engine (duckdb / boto3) only when a query runs

    return queries.run(name, **params)


def room_list(room_ids: Any) -> list[str]:
    """A `room_ids` parameter (`room_id IN (:room_ids)`): the ids, or one id no room has when there
    are none (livecommerce.analytics.queries.room_list)."""
    from livecommerce.analytics import queries  # deferred: the engine module only when a query runs

    return queries.room_list(room_ids)


def record_facts(facts: list[StoreFact]) -> int:
    """Put like, danmaku and keyword-entrant facts into the analytics store's `events` stream (one PutRecordBatch
    per 500); how many calls it took. Raises if Firehose keeps refusing some (retry the batch)."""
    from livecommerce.analytics import store_writer  # deferred: boto3 client on first use

    return store_writer.put_envelopes(fact.envelope() for fact in facts)

"""Wiring of the interaction context (real-time room channel: danmaku, likes,
live broadcasts, video-synced cards): routes, tables, subscriptions, stream
consumers and routers. See livecommerce.wiring.

Import-light on purpose: only specs, built on first access (PEP 562 module
__getattr__) so that livecommerce.shared.routes / .tables / .subscriptions,
which read this module while they are being imported, never see a
half-initialised module. No boto3 or pynamodb here.

STREAM_CONSUMERS is this context's own addition: Lambda event source mappings
on the interaction table's DynamoDB stream. The realtime CDK stack builds the
mappings from it and the local stack's stream pump (local.mqtt.streams)
delivers the same records, with the same filters, to the same handlers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_built: dict[str, Any] = {}

# Domain events the broadcasts function turns into messages on a room's
# `events` topic. Rooms emits the lifecycle ones; the commerce contexts emit
# the others (their detail carries `room_id`; anything else is passed on
# generically, minus internal fields).
ROOM_LIFECYCLE_EVENTS = ("RoomStarted", "StreamInterrupted", "StreamResumed", "RoomEnded")
COMMERCE_EVENTS = ("ProductListed", "ProductUnlisted", "StockChanged", "FlashSaleScheduled", "FlashSaleCountdown",
                   "FlashSaleStarted", "FlashSaleSoldOut", "FlashSaleEnded", "CouponDropped")
BROADCAST_EVENTS = ROOM_LIFECYCLE_EVENTS + COMMERCE_EVENTS


@dataclass(frozen=True)
class StreamConsumer:
    """A Lambda event source mapping on a table's DynamoDB stream.

    `filters` are Lambda event filtering patterns (FilterCriteria), matched
    against the stream record; a record passing any one of them is delivered.
    `batching_window_seconds` 0: invoke as soon as records arrive (Lambda
    polls each shard about four times a second). `parallelization_factor`:
    concurrent batches per shard, records of one partition key stay in order."""

    name: str
    function: str
    table_logical_id: str
    filters: tuple[dict, ...] = field(default_factory=tuple)
    batch_size: int = 100
    batching_window_seconds: int = 0
    starting_position: str = "LATEST"
    retry_attempts: int = 3
    max_record_age_seconds: int = 120
    parallelization_factor: int = 1


def __getattr__(name: str) -> Any:
    if name in ("INTERACTION", "TABLES"):
        return _tables()[name]
    if name == "ROUTES":
        return _routes()
    if name == "SUBSCRIPTIONS":
        return _subscriptions()
    if name == "STREAM_CONSUMERS":
        return _stream_consumers()
    raise AttributeError(name)


def _tables() -> dict[str, Any]:
    if "tables" in _built:
        return _built["tables"]
    from livecommerce.shared.tables import TableSpec
    if "tables" in _built:
        return _built["tables"]
    # Interaction: danmaku messages (write-sharded per room, TTL), like counters
    # (sharded), moderation (mutes, bans), danmaku settings, rate-limit and
    # duplicate counters (TTL) and the coalescing gates of the broadcasters.
    # The stream feeds the realtime batcher's like totals (see STREAM_CONSUMERS);
    # danmaku batches are published from the API call (interaction.feed).
    interaction = TableSpec(
        logical_id="Interaction",
        env_var="INTERACTION_TABLE",
        ttl_attribute="expires_at",
        stream=True,
    )
    _built["tables"] = {"INTERACTION": interaction, "TABLES": (interaction,)}
    return _built["tables"]


def _routes() -> tuple:
    if "routes" in _built:
        return _built["routes"]
    from livecommerce.shared.routes import Route
    if "routes" in _built:
        return _built["routes"]
    routes = (
        Route("GET", "/v1/rooms/{room_id}/realtime", "interaction", "token", "viewer"),
        Route("POST", "/v1/rooms/{room_id}/danmaku", "interaction", "token", "viewer", max_body_bytes=2 * 1024),
        Route("POST", "/v1/rooms/{room_id}/likes", "interaction", "token", "viewer", max_body_bytes=1024),
        Route("GET", "/v1/rooms/{room_id}/danmaku-settings", "interaction", "token", "host"),
        Route("PUT", "/v1/rooms/{room_id}/danmaku-settings", "interaction", "token", "host",
              max_body_bytes=16 * 1024),
        Route("PUT", "/v1/rooms/{room_id}/mutes/{user_id}", "interaction", "token", "host", max_body_bytes=1024),
        Route("DELETE", "/v1/rooms/{room_id}/mutes/{user_id}", "interaction", "token", "host"),
        Route("PUT", "/v1/rooms/{room_id}/bans/{user_id}", "interaction", "token", "host", max_body_bytes=1024),
        Route("DELETE", "/v1/rooms/{room_id}/bans/{user_id}", "interaction", "token", "host"),
    )
    _built["routes"] = routes
    return routes


def _subscriptions() -> tuple:
    if "subscriptions" in _built:
        return _built["subscriptions"]
    from livecommerce.shared.subscriptions import Subscription
    if "subscriptions" in _built:
        return _built["subscriptions"]
    subscriptions = (
        # Room lifecycle and commerce events -> the room's `events` topic (and
        # IVS timed metadata for product cards and flash sales).
        Subscription("RoomBroadcasts", "broadcasts", detail_types=BROADCAST_EVENTS),
    )
    _built["subscriptions"] = subscriptions
    return subscriptions


def _stream_consumers() -> tuple[StreamConsumer, ...]:
    if "streams" not in _built:
        _built["streams"] = (
            # Like counter changes -> the room's exact total at most once a second.
            StreamConsumer("LikeTotals", "realtime_batcher", "Interaction",
                           filters=({"eventName": ["INSERT", "MODIFY"],
                                     "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "LIKES#"}]}}}},),
                           batch_size=1000, batching_window_seconds=1),
        )
    return _built["streams"]


def router_builders() -> list:
    from livecommerce.interaction.router import build_router

    return [build_router]

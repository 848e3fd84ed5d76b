"""What the interaction context (the real-time room channel: danmaku, likes,
live broadcasts, video-synced cards) declares: its table, routes, functions,
subscriptions and stream consumers."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, Route, StreamConsumer, Subscription, TableSpec

# Domain events the broadcasts function turns into messages on a room's
# `events` topic. Rooms emits the lifecycle ones; the commerce contexts emit
# the others (each carries `room_id`).
ROOM_LIFECYCLE_EVENTS = ("RoomStarted", "StreamInterrupted", "StreamResumed", "RoomEnded")
COMMERCE_EVENTS = ("ProductListed", "ProductUnlisted", "StockChanged", "FlashSaleScheduled", "FlashSaleCountdown",
                   "FlashSaleStarted", "FlashSaleSoldOut", "FlashSaleEnded", "CouponDropped",
                   "CouponDropExhausted")
# Co-streaming and PK (the media context: livecommerce.media.events).
COSTREAM_EVENTS = ("CostreamRequested", "CostreamInvited", "CostreamJoined", "CostreamLeft", "CostreamGuestMuted",
                   "CostreamLayoutChanged", "PkStarted", "PkScore", "PkEnded")
# Lotteries (the engagement context: livecommerce.engagement.events): opening (commitment), countdown,
# close (entrant-list hash, beacon round), draw (winners as pseudonyms and masked nicknames), redraws.
LOTTERY_EVENTS = ("LotteryOpened", "LotteryCountdown", "LotteryClosed", "LotteryDrawn", "LotteryRedrawn")
BROADCAST_EVENTS = ROOM_LIFECYCLE_EVENTS + COMMERCE_EVENTS + COSTREAM_EVENTS + LOTTERY_EVENTS

# The stream records that carry likes and danmaku for the analytics store (interaction.store_facts
# reads the same key shapes): per-user like counters RATE#<room>#<user> / LIKES#<window> that were
# created or changed, and stored messages DM#<room>#<shard> when inserted.
STORE_FACT_FILTERS: tuple[dict, ...] = (
    {"eventName": ["INSERT", "MODIFY"],
     "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "RATE#"}]}, "sk": {"S": [{"prefix": "LIKES#"}]}}}},
    {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "DM#"}]}}}},
)

# Interaction: danmaku messages (write-sharded per room, TTL), like counters
# (sharded), moderation (mutes, bans), danmaku settings, rate-limit and
# duplicate counters (TTL) and the coalescing gates of the broadcasters.
# The stream feeds the realtime batcher's like totals (see the stream consumers);
# danmaku batches are published from the API call (interaction.feed).
INTERACTION = TableSpec(
    logical_id="Interaction",
    env_var="INTERACTION_TABLE",
    ttl_attribute="expires_at",
    stream=True,
)

SPEC = ContextSpec(
    name="interaction",
    description="Danmaku, likes, moderation, room broadcasts, video-synced cards",
    tables=(INTERACTION,),
    routes=(
        Route("GET", "/v1/rooms/{room_id}/realtime", "interaction", "token", "viewer",
              errors=(400, 403)),   # realtime_unavailable; banned
        Route("POST", "/v1/rooms/{room_id}/danmaku", "interaction", "token", "viewer", max_body_bytes=2 * 1024,
              errors=(403,)),   # banned, muted, reply_host_only
        Route("POST", "/v1/rooms/{room_id}/likes", "interaction", "token", "viewer", max_body_bytes=1024,
              errors=(403,)),   # banned
        # Edge: the room-entry snapshot, the same for everyone (CloudFront caches it 1 s; cdk/constructs/edge_cdn.py).
        Route("GET", "/v1/rooms/{room_id}/snapshot", "interaction", "public", "anyone"),
        # Edge: the crowd's danmaku pages of a big room (poll mode, interaction.delivery), cached 1 s per seq.
        Route("GET", "/v1/rooms/{room_id}/feed", "interaction", "public", "anyone"),
        Route("GET", "/v1/rooms/{room_id}/danmaku-settings", "interaction", "token", "host"),
        Route("PUT", "/v1/rooms/{room_id}/danmaku-settings", "interaction", "token", "host",
              max_body_bytes=16 * 1024),
        Route("GET", "/v1/rooms/{room_id}/moderation", "interaction", "token", "host"),
        Route("PUT", "/v1/rooms/{room_id}/mutes/{user_id}", "interaction", "token", "host", max_body_bytes=1024),
        Route("DELETE", "/v1/rooms/{room_id}/mutes/{user_id}", "interaction", "token", "host"),
        Route("PUT", "/v1/rooms/{room_id}/bans/{user_id}", "interaction", "token", "host", max_body_bytes=1024),
        Route("DELETE", "/v1/rooms/{room_id}/bans/{user_id}", "interaction", "token", "host"),
    ),
    subscriptions=(
        # Room lifecycle and commerce events -> the room's `events` topic (and
        # IVS timed metadata for product cards and flash sales).
        Subscription("RoomBroadcasts", "broadcasts", detail_types=BROADCAST_EVENTS),
        # Flash-sale buys -> the sale's units left on the room's card, read from its shards at most once
        # a second per sale (interaction.flash_units); the rule passes flash-sale orders only.
        Subscription("FlashSaleUnits", "broadcasts", detail_types=("OrderCreated",),
                     detail={"kind": ["flash_sale"]}),
    ),
    stream_consumers=(
        # Like counter changes -> the room's exact total at most once a second.
        StreamConsumer("LikeTotals", "realtime_batcher", "Interaction",
                       filters=({"eventName": ["INSERT", "MODIFY"],
                                 "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "LIKES#"}]}}}},),
                       batch_size=1000, batching_window_seconds=1),
        # Likes (per-user counter changes) and danmaku (stored messages) -> the analytics store's
        # events stream, one PutRecordBatch per batch (interaction.store_facts; no event per like).
        # 5 s batches: a liking viewer is at most 12 rows a minute; the post-live report waits this
        # window (then Firehose's delay) after the end for the last ones (analytics.post_live);
        # kept an hour if Firehose fails.
        StreamConsumer("StoreFacts", "realtime_batcher", "Interaction", filters=STORE_FACT_FILTERS,
                       batch_size=1000, batching_window_seconds=5, retry_attempts=10,
                       max_record_age_seconds=3600),
    ),
    functions=(
        FunctionSpec(
            name="interaction",
            description="Realtime credentials, danmaku, likes, danmaku settings, mutes and bans",
            tables_write=(INTERACTION,),             # messages, like shards, counters, moderation, settings
            # room access; sender nicknames; assistants (moderation); the snapshot's cards (Catalog)
            tables_read=("Rooms", "Identity", "Catalog"),
            reads_token_secret=True,                 # GET .../realtime verifies the token it hands to the client
            reads_cursor_secret=True,                # GET .../moderation
            publishes_realtime=True,                 # own copies, host replies, notices, danmaku batches
            realtime_client_settings=True,
            invokes=("realtime_batcher",),           # the trailing publisher of a danmaku slot (interaction.feed)
        ),
        FunctionSpec(
            name="broadcasts",
            description="Domain events -> the room's events topic; product and flash-sale cards -> IVS timed "
                        "metadata",
            tables_write=(INTERACTION,),             # delivery dedup, coalescing gates, the metadata queue
            # the room's channel ARN for timed metadata; a flash sale's stock shards (units left)
            tables_read=("Rooms", "Orders"),
            ivs_actions=("PutMetadata",),
            publishes_realtime=True,
            memory_mb=256,
            # Coalescing waits for the next publish slot of a room (1 s for stock, 200 ms for cards).
            timeout_seconds=30,
        ),
        FunctionSpec(
            name="realtime_authorizer",
            description="IoT Core custom authorizer: verifies login tokens, returns the room's viewer policy",
            tables_read=("Rooms", INTERACTION),      # the room; the viewer's ban
            reads_token_secret=True,
            memory_mb=256,
            timeout_seconds=5,
        ),
        FunctionSpec(
            name="realtime_batcher",
            description="Danmaku slots flushed on request; like totals from the interaction table stream",
            # Coalescing gates and like totals; the stream read grant comes with the mapping
            # (realtime stack, the LikeTotals stream consumer). Invoked asynchronously by
            # `interaction` to publish a room's waiting danmaku at the next slot.
            tables_write=(INTERACTION,),
            publishes_realtime=True,
            puts_analytics_events=True,              # likes and danmaku to the analytics store (StoreFacts)
            # A batch waits for the room's next publish slot (200 ms danmaku, 1 s likes).
            timeout_seconds=30,
        ),
    ),
    router="livecommerce.interaction.router",
)

"""What the analytics context declares: the event log and its consumer."""
from __future__ import annotations

from livecommerce.shared.spec import (ContextSpec, FunctionSpec, IndexSpec, Route, ServiceIntegration, Subscription,
                                     TableSpec)

# Every domain event the bus delivers is also kept here for analytics
# (per-room behaviour, stats and exports read from it).
EVENT_LOG = TableSpec(
    logical_id="EventLog",
    env_var="EVENT_LOG_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
    ttl_attribute="expires_at",
)

# Live figures of running rooms (analytics.live): presence per realtime client, sharded counters,
# per-minute figures and the ticker lease. Nothing here outlives two days.
LIVE_STATS = TableSpec(
    logical_id="LiveStats",
    env_var="LIVE_STATS_TABLE",
    ttl_attribute="expires_at",
)

# The bound of the post-live report's wait for the store: 1.5 x Firehose's 15 s buffer interval with
# dynamic partitioning (cdk/stacks/analytics_stack.py: STORE_BUFFER_SECONDS), after the likes' and
# danmaku's batching window (analytics.post_live.settle_window); the RoomEnded path and a GET wait alike.
REPORT_SETTLE_SECONDS = "23"

SPEC = ContextSpec(
    name="analytics",
    description="Behaviour events, statistics, tags and exports",
    tables=(EVENT_LOG, LIVE_STATS),
    routes=(
        # Behaviour beacons: no Lambda per request. API Gateway validates the batch, the beacon
        # authorizer (cached per viewer and room) checks the viewer and the room, the mapping template
        # stamps server time, viewer and address, and Firehose writes the store (livecommerce.analytics
        # .beacon_gateway, docs/analytics.md). `function` is the authorizer, the only Lambda involved.
        Route("POST", "/v1/rooms/{room_id}/events", "beacon_authorizer", "token", "viewer",
              integration=ServiceIntegration(
                  service="firehose", action="PutRecordBatch", target="beacons",
                  request_schema="livecommerce.analytics.beacons:request_schema",
                  templates="livecommerce.analytics.beacon_gateway:templates_for_spec",
                  identity_headers=("X-Playback-Token",), authorizer_cache_seconds=600,
                  success_status=202, errors=(403, 404, 413, 422, 503),
                  summary="Post a batch of behaviour beacons (enter, heartbeat, leave, card impression, "
                          "product click, share click, replay watch)")),
        # The post-live report and what is built on it (livecommerce.analytics.reports): host and operators.
        # An ended room's report before the store has caught up with the end: 409 report_not_ready.
        Route("GET", "/v1/rooms/{room_id}/stats", "analytics", "token", "host", errors=(409,)),
        # Live figures (analytics.live): the host, the room's assistants, operators.
        Route("GET", "/v1/rooms/{room_id}/stats/live", "analytics", "token", "host"),
        Route("GET", "/v1/rooms/{room_id}/stats.xlsx", "analytics", "token", "host", errors=(409,)),
        Route("GET", "/v1/rooms/{room_id}/viewers", "analytics", "token", "host", errors=(409,)),
        # every room in ?rooms= passes rooms.require_room_host (a test room they do not run: 404)
        Route("GET", "/v1/stats/compare", "analytics", "token", "host", room_from="query.rooms", errors=(409,)),
        Route("GET", "/v1/products/{product_id}/stats", "analytics", "token", "host"),
    ),
    router="livecommerce.analytics.router",
    emits=("ViewerWatchTimes",),
    subscriptions=(
        # Every domain event is kept in the event log for analytics and audits.
        Subscription("EventLog", "domain_events"),
        # The post-live report is computed and stored when the room ends (analytics.post_live).
        Subscription("PostLiveReport", "post_live_report", detail_types=("RoomEnded",)),
        # Live figures: the ticker starts with the room; paid orders count toward them.
        Subscription("LiveFigures", "live_stats", detail_types=("RoomStarted", "StreamResumed", "OrderPaid")),
    ),
    functions=(
        FunctionSpec(
            name="analytics",
            description="Post-live report, workbook export, viewers and tags, comparisons, product stats",
            # rooms.require_room_host/_staff; live figures; the rooms that presented a product (product stats)
            tables_read=("Rooms", "Identity", "LiveStats", EVENT_LOG),
            reads_cursor_secret=True,         # GET /v1/rooms/{room_id}/viewers
            queries_analytics=True,           # the report queries (Athena on AWS)
            exports_prefixes=("reports/", "exports/"),   # stored reports, workbooks (presigned links)
            puts_events=True,                 # ViewerWatchTimes, when a GET computes an ended room's report first
            environment=(("REPORT_SETTLE_SECONDS", REPORT_SETTLE_SECONDS),),   # when a GET may store it
            memory_mb=1024,
            timeout_seconds=29,               # Athena queries; API Gateway waits 29 s at most
        ),
        FunctionSpec(
            name="live_stats",
            description="Live figures: IoT lifecycle events (IoT rule), paid orders, and the 5-second ticker "
                        "that pushes them to the host while the room is live",
            # Interaction: the audience rule's switch on the room's settings item (interaction.follow_audience)
            tables_write=(LIVE_STATS, "Interaction"),
            tables_read=("Rooms",),           # is the room still live
            publishes_realtime=True,          # the room's staff topic; the `delivery` switch on its events topic
            invokes=("live_stats",),          # the ticker hands over to its next run
            environment=(("LIVE_TICKER_SECONDS", "55"),),   # one ticker run (live.ticker_run_seconds)
            memory_mb=256,
            timeout_seconds=70,               # one ticker run is 55 s
        ),
        FunctionSpec(
            name="post_live_report",
            description="On RoomEnded: computes the post-live report once, stores it with its workbook, "
                        "publishes ViewerWatchTimes",
            tables_read=("Rooms",),           # rooms.room_title
            tables_write=(EVENT_LOG,),        # the session's products into the product-room index
            puts_events=True,                 # ViewerWatchTimes
            queries_analytics=True,           # the report queries (Athena on AWS)
            exports_prefixes=("reports/",),   # the stored report, its viewer rows and workbook
            # the bound of the wait for the store: 1.5 x Firehose's 15 s buffer interval with dynamic
            # partitioning (cdk/stacks/analytics_stack.py: STORE_BUFFER_SECONDS); it ends sooner when the
            # store has caught up with the end (post_live.wait_for_store)
            environment=(("REPORT_SETTLE_SECONDS", REPORT_SETTLE_SECONDS),),
            memory_mb=2048,
            timeout_seconds=300,              # waits for the store (at most 23 s), then the queries
        ),
        FunctionSpec(
            name="beacon_authorizer",
            description="REQUEST authorizer of the beacon route: login token, room visibility, playback token",
            tables_read=("Identity", "Rooms"),  # identity.user_exists, rooms.require_visible
            reads_token_secret=True,
            reads_playback_key=True,          # media.playback_token_valid
            memory_mb=256,
        ),
        FunctionSpec(
            name="events_transform",
            description="Firehose data transformation of the analytics events stream: EventBridge envelopes -> "
                        "store rows (detail as JSON text) with their dt/room_id partition keys",
            memory_mb=256,                    # a batch is at most 1 MB (cdk/stacks/analytics_stack.py)
            timeout_seconds=60,               # Firehose waits up to 5 minutes; a 1 MB batch takes well under 1 s
        ),
        FunctionSpec(
            name="domain_events",
            description="Keeps every domain event in the event log, and indexes the rooms that presented "
                        "each product (analytics.product_room_index)",
            tables_write=(EVENT_LOG,),
            tables_read=("Rooms",),           # the presenting room's host (product_room_index.record_pairs)
            memory_mb=256,
        ),
    ),
)

"""What each Lambda function may touch: the source of its IAM grants and of the
table environment variables it gets. Least privilege by default: a function
gets nothing that is not listed here.

The function name is its folder under functions/ (and the name routes and
subscriptions use).
"""
from __future__ import annotations

from dataclasses import dataclass

from livecommerce.commerce_wiring import CATALOG, MARKETING, ORDERS
from livecommerce.interaction_wiring import INTERACTION
from livecommerce.shared import tables
from livecommerce.shared.tables import TableSpec

# IVS actions paced by our own code rather than by boto3 retries: timed metadata
# (livecommerce.interaction.cards sends at most one PutMetadata per 200 ms per
# channel and puts throttled cards back in its queue).
IVS_PACED_ACTIONS = frozenset({"PutMetadata"})


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    tables_read: tuple[TableSpec, ...] = ()
    tables_write: tuple[TableSpec, ...] = ()   # write implies read
    reads_token_secret: bool = False
    reads_providers_secret: bool = False
    # The payment providers' merchant keys (WeChat Pay, Alipay). Also sets
    # PAYMENTS_SECRET_ID, PAYMENT_NOTIFY_BASE (the stage's api_public_base),
    # WECHATPAY_API_BASE and ALIPAY_PAY_GATEWAY.
    reads_payments_secret: bool = False
    # Creates orders: ORDER_PAYMENT_WINDOW_SECONDS (the stage's payment window).
    creates_orders: bool = False
    puts_events: bool = False
    # The playback key pair secret (the private key signs IVS playback tokens);
    # also sets PLAYBACK_KEY_SECRET_ID and PLAYBACK_DOMAIN.
    reads_playback_key: bool = False
    # Non-empty: kms:Encrypt and kms:Decrypt with the PII key, called directly (not
    # through a service), allowed only with exactly these encryption context keys.
    # Also sets PII_KEY_ID.
    pii_encryption_context: tuple[str, ...] = ()
    # Read, write (presigned POST/GET) and list objects of the materials bucket,
    # under this key prefix only (ends with "/").
    materials_prefix: str | None = None
    # IVS actions the function calls ("CreateChannel", ...), on the channels and
    # stream keys of the account and region. Control-plane actions also set
    # AWS_RETRY_MODE=standard: IVS allows 5 requests per second for most of them
    # (not IVS_PACED_ACTIONS, whose caller paces and re-queues them itself).
    ivs_actions: tuple[str, ...] = ()
    # Publishes to the real-time room channel (IoT Core): iot:Publish on this
    # stage's room topics (lc/<stage>/rooms/*) and iot:DescribeEndpoint (the
    # account's ATS data endpoint, looked up once per container).
    publishes_realtime: bool = False
    # Hands out real-time credentials: REALTIME_ENDPOINT (empty: the ATS endpoint
    # found with DescribeEndpoint) and REALTIME_AUTHORIZER_NAME.
    realtime_client_settings: bool = False
    # The stage's recording settings: RECORDING_CONFIGURATION_ARN and
    # RECONNECT_WINDOW_SECONDS (functions that provision channels or follow
    # the room lifecycle).
    media_settings: bool = False
    # Functions this one invokes asynchronously (InvocationType=Event): lambda:InvokeFunction
    # on exactly those, and <NAME>_FUNCTION (upper case) with each one's name.
    invokes: tuple[str, ...] = ()
    # Invoked on a schedule (an EventBridge rule), e.g. "rate(1 minute)".
    schedule: str | None = None
    memory_mb: int = 512
    timeout_seconds: int = 10

    def __post_init__(self) -> None:
        if self.materials_prefix is not None and not (self.materials_prefix.endswith("/")
                                                      and self.materials_prefix.strip("/")):
            raise ValueError(f"{self.name}: materials_prefix must be a non-empty prefix ending in '/'")
        if any(action.startswith("ivs:") or "*" in action for action in self.ivs_actions):
            raise ValueError(f"{self.name}: ivs_actions are bare action names, without 'ivs:' or wildcards")

    @property
    def ivs_retry_mode(self) -> bool:
        """Whether the function calls IVS control-plane actions (AWS_RETRY_MODE=standard)."""
        return any(action not in IVS_PACED_ACTIONS for action in self.ivs_actions)

    @property
    def tables(self) -> tuple[TableSpec, ...]:
        """Every table the function uses (read or write), without repeats."""
        seen: dict[str, TableSpec] = {}
        for spec in (*self.tables_write, *self.tables_read):
            seen.setdefault(spec.logical_id, spec)
        return tuple(seen.values())


FUNCTION_SPECS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="authorizer",
        description="API Gateway REQUEST authorizer: verifies login tokens",
        reads_token_secret=True,
        memory_mb=256,
        timeout_seconds=5,
    ),
    FunctionSpec(
        name="identity",
        description="Login, profile, hosts and follows",
        tables_write=(tables.IDENTITY,),
        reads_token_secret=True,
        reads_providers_secret=True,
        puts_events=True,
        # The WeChat/Alipay code exchange is an outbound HTTPS call with its own timeout.
        timeout_seconds=15,
    ),
    FunctionSpec(
        name="docs",
        description="OpenAPI document and Swagger UI",
        memory_mb=256,
    ),
    FunctionSpec(
        name="domain_events",
        description="Keeps every domain event in the event log",
        tables_write=(tables.EVENT_LOG,),
        memory_mb=256,
    ),
    FunctionSpec(
        name="rooms",
        description="Rooms: announcements, reservations, ingest, playback, lifecycle, materials",
        tables_write=(tables.ROOMS,),
        # Host profiles (get_host); the announcement's hot products (livecommerce.catalog.hot_products).
        tables_read=(tables.IDENTITY, CATALOG),
        reads_token_secret=True,                 # optional_caller verifies tokens on public routes
        reads_playback_key=True,                 # signs ES384 playback tokens
        puts_events=True,                        # the rooms outbox
        pii_encryption_context=("room_id", "viewer_id"),   # reservation phone numbers
        materials_prefix="rooms/",               # rooms/<room_id>/materials/<id>
        # livecommerce.media.channels: provisioning (ListChannels by name, CreateChannel
        # with tags, GetChannel), stream keys (List/Get/Create/Delete), StopStream, and
        # DeleteChannel for a duplicate channel lost in a create race.
        ivs_actions=("CreateChannel", "GetChannel", "ListChannels", "TagResource", "DeleteChannel",
                     "StopStream", "CreateStreamKey", "GetStreamKey", "ListStreamKeys", "DeleteStreamKey"),
        media_settings=True,
        # Channel provisioning is a few IVS calls (5 TPS, retried when throttled);
        # API Gateway waits 29 s at most.
        timeout_seconds=20,
    ),
    FunctionSpec(
        name="stream_events",
        description="IVS stream and recording state changes drive the room lifecycle",
        # Records stream facts and the derived room status, then publishes the
        # outbox; it makes no IVS call.
        tables_write=(tables.ROOMS,),
        puts_events=True,
        media_settings=True,
        memory_mb=256,
    ),
    FunctionSpec(
        name="outbox_sweeper",
        description="Every minute: publishes domain events a crash left in the rooms outbox",
        # Queries the pending-outbox index (gsi1), publishes, deletes the outbox items.
        tables_write=(tables.ROOMS,),
        puts_events=True,
        schedule="rate(1 minute)",
        memory_mb=256,
        timeout_seconds=50,   # finishes before the next tick
    ),
    # Commerce ------------------------------------------------------------------------
    FunctionSpec(
        name="catalog",
        description="Catalog: product library, room presets, listings, cards",
        tables_write=(CATALOG,),                 # products, presets, the catalog outbox
        tables_read=(tables.ROOMS,),             # rooms.require_room_host (presets, listings)
        puts_events=True,                        # the catalog outbox (ProductListed, StockChanged, ...)
    ),
    FunctionSpec(
        name="orders",
        description="Orders with stock holds, cancel, flash sales",
        # One transaction per order: the order and its outbox (orders), the stock hold
        # (catalog presets or flash-sale shards), the coupon lock (marketing) and the
        # Idempotency-Key record (idempotency).
        tables_write=(ORDERS, CATALOG, MARKETING, tables.IDEMPOTENCY),
        tables_read=(tables.ROOMS,),             # flash sales: rooms.require_room_host
        puts_events=True,
        creates_orders=True,
        invokes=("commerce_timers",),            # a flash sale's first step within the minute: its timer
    ),
    FunctionSpec(
        name="payments",
        description="WeChat Pay / Alipay payments and their verified notifications",
        # apply_payment: the order, the settlement record and the outbox (orders), the
        # coupon use (marketing), the per-transaction notification record and the
        # Idempotency-Key record (idempotency).
        tables_write=(ORDERS, MARKETING, tables.IDEMPOTENCY),
        tables_read=(tables.IDENTITY,),          # the payer's openid / Alipay user id
        reads_payments_secret=True,              # the only function that reads the merchant keys
        puts_events=True,                        # OrderPaid, OrderRefundRequired
        # The prepay call to WeChat Pay / Alipay is an outbound HTTPS call (8 s timeout).
        timeout_seconds=15,
    ),
    FunctionSpec(
        name="marketing",
        description="Coupon templates, drops, claims, shares and points",
        tables_write=(MARKETING, tables.IDEMPOTENCY),   # claims and redemptions take an Idempotency-Key
        tables_read=(tables.ROOMS,),             # drops: room host; shares: room visibility
        puts_events=True,
        invokes=("commerce_timers",),            # a drop within the minute: its timer
    ),
    FunctionSpec(
        name="order_expiry",
        description="Every minute: expires unpaid orders, asks for flash-sale and drop timers, runs what "
                    "they missed, sweeps outboxes",
        # close_order gives stock (catalog or flash-sale shards) and coupons (marketing)
        # back; the three commerce outboxes are swept. Every step is conditional, so
        # two overlapping runs do the work once.
        tables_write=(ORDERS, CATALOG, MARKETING),
        puts_events=True,
        schedule="rate(1 minute)",
        invokes=("commerce_timers",),            # the flash-sale steps and drops of the next minute
        timeout_seconds=60,
    ),
    FunctionSpec(
        name="commerce_timers",
        description="A flash sale's countdown, start or end, or a coupon drop, at its second",
        # One step: the sale (orders; its stock shards are read for the end) or the drop
        # (marketing), with its event through the context's outbox.
        tables_write=(ORDERS, MARKETING),
        puts_events=True,
        invokes=("commerce_timers",),            # the next step's timer, when that one is near too
        # Sleeps until its moment, at most orders.timers.TIMER_LEAD_SECONDS (75 s), then one step.
        timeout_seconds=120,
        memory_mb=256,
    ),
    FunctionSpec(
        name="commerce_events",
        description="OrderPaid earns points (once per order)",
        tables_write=(MARKETING,),               # points balance, ledger, per-order ref, outbox
        puts_events=True,                        # PointsChanged
        memory_mb=256,
    ),
    # Real-time room channel (IoT Core; the realtime stack adds the custom authorizer
    # and the stream mappings) -------------------------------------------------------
    FunctionSpec(
        name="interaction",
        description="Realtime credentials, danmaku, likes, danmaku settings, mutes and bans",
        tables_write=(INTERACTION,),             # messages, like shards, counters, moderation, settings
        tables_read=(tables.ROOMS, tables.IDENTITY),    # room access; sender nicknames
        reads_token_secret=True,                 # GET .../realtime verifies the token it hands to the client
        publishes_realtime=True,                 # own copies, host replies, notices, danmaku batches
        realtime_client_settings=True,
        invokes=("realtime_batcher",),           # the trailing publisher of a danmaku slot (interaction.feed)
    ),
    FunctionSpec(
        name="broadcasts",
        description="Domain events -> the room's events topic; product and flash-sale cards -> IVS timed metadata",
        tables_write=(INTERACTION,),             # delivery dedup, coalescing gates, the metadata queue
        tables_read=(tables.ROOMS,),             # the room's channel ARN for timed metadata
        ivs_actions=("PutMetadata",),
        publishes_realtime=True,
        memory_mb=256,
        # Coalescing waits for the next publish slot of a room (1 s for stock, 200 ms for cards).
        timeout_seconds=30,
    ),
    FunctionSpec(
        name="realtime_authorizer",
        description="IoT Core custom authorizer: verifies login tokens, returns the room's viewer policy",
        tables_read=(tables.ROOMS, INTERACTION),         # the room; the viewer's ban
        reads_token_secret=True,
        memory_mb=256,
        timeout_seconds=5,
    ),
    FunctionSpec(
        name="realtime_batcher",
        description="Danmaku slots flushed on request; like totals from the interaction table stream",
        # Coalescing gates and like totals; the stream read grant comes with the mapping
        # (realtime stack, interaction_wiring.STREAM_CONSUMERS). Invoked asynchronously by
        # `interaction` to publish a room's waiting danmaku at the next slot.
        tables_write=(INTERACTION,),
        publishes_realtime=True,
        # A batch waits for the room's next publish slot (200 ms danmaku, 1 s likes).
        timeout_seconds=30,
    ),
)

BY_NAME: dict[str, FunctionSpec] = {spec.name: spec for spec in FUNCTION_SPECS}

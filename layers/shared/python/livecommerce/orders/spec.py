"""What the orders context declares: its table, routes, functions and events."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, IndexSpec, Route, Subscription, TableSpec

# Orders: orders and their payment attempts, flash sales with their sharded
# stock and per-buyer counters, and the orders outbox. gsi1: pending orders by
# expiry (sharded, swept every minute), sales waiting for their start event,
# pending outbox events (sharded). gsi2: a buyer's orders, a room's flash sales.
# gsi3: a room's orders (ROOMORDER#<room>#<0..15>, by order id), for the host's and operators' order list.
ORDERS = TableSpec(
    logical_id="Orders",
    env_var="ORDERS_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"), IndexSpec("gsi2", "gsi2pk", "gsi2sk"),
             IndexSpec("gsi3", "gsi3pk", "gsi3sk")),
    ttl_attribute="expires_at",
)

SPEC = ContextSpec(
    name="orders",
    description="Orders with stock holds and expiry, flash sales",
    tables=(ORDERS,),
    routes=(
        Route("POST", "/v1/orders", "orders", "token", "viewer", room_from="body.room_id"),
        Route("GET", "/v1/orders/{order_id}", "orders", "token", "owner"),
        Route("GET", "/v1/me/orders", "orders", "token", "viewer"),
        Route("POST", "/v1/orders/{order_id}/cancel", "orders", "token", "owner"),
        Route("POST", "/v1/rooms/{room_id}/flash-sales", "orders", "token", "host"),
        Route("GET", "/v1/rooms/{room_id}/flash-sales", "orders", "public", "anyone"),
        Route("GET", "/v1/flash-sales/{sale_id}", "orders", "public", "anyone", room_from="path.sale_id"),
        Route("POST", "/v1/flash-sales/{sale_id}/orders", "orders", "token", "viewer",
              room_from="path.sale_id"),
        # Before a big sale: DynamoDB warm throughput for its expected rate (orders.prewarm).
        Route("POST", "/v1/flash-sales/{sale_id}/prewarm", "orders", "token", "operator",
              room_from="path.sale_id"),
        # Fulfilment and after-sales (orders.fulfilment_service).
        Route("POST", "/v1/orders/{order_id}/shipments", "orders", "token", "host"),
        # A room's orders with their payment, shipping and refund state (host console, operations dashboard).
        Route("GET", "/v1/rooms/{room_id}/orders", "orders", "token", "host"),
        Route("POST", "/v1/shipments", "orders", "token", "host"),
        Route("POST", "/v1/orders/{order_id}/receipt", "orders", "token", "owner", errors=(403,)),
        Route("POST", "/v1/orders/{order_id}/after-sales", "orders", "token", "owner"),
        Route("POST", "/v1/after-sales/{after_sale_id}/approve", "orders", "token", "host"),
        Route("POST", "/v1/after-sales/{after_sale_id}/reject", "orders", "token", "host"),
    ),
    subscriptions=(
        # A refund's result (payments) moves the after-sale and the order, once per refund.
        Subscription("OrderRefunds", "order_events", detail_types=("RefundSucceeded", "RefundFailed")),
    ),
    functions=(
        FunctionSpec(
            name="orders",
            description="Orders with stock holds, cancel, flash sales",
            # One transaction per order: the order and its outbox (orders), the stock hold
            # (catalog presets or flash-sale shards), the coupon lock (marketing) and the
            # Idempotency-Key record (idempotency).
            tables_write=(ORDERS, "Catalog", "Marketing", "Idempotency"),
            reads_cursor_secret=True,                # GET /v1/me/orders, GET /v1/rooms/{room_id}/orders
            tables_read=("Rooms",),                  # flash sales: rooms.require_room_host
            puts_events=True,
            creates_orders=True,
            invokes=("commerce_timers",),            # a flash sale's first step within the minute: its timer
            # POST /v1/flash-sales/{sale_id}/prewarm: UpdateTable (WarmThroughput) on the tables a buy writes.
            warms_tables=("Orders", "Idempotency"),
        ),
        FunctionSpec(
            name="order_expiry",
            description="Every minute: expires unpaid orders, asks for flash-sale and drop timers, runs what "
                        "they missed, sweeps outboxes",
            # close_order gives stock (catalog or flash-sale shards) and coupons (marketing)
            # back; the three commerce outboxes are swept. Every step is conditional, so
            # two overlapping runs do the work once.
            tables_write=(ORDERS, "Catalog", "Marketing", "Idempotency"),
            # Before expiry, payments asks WeChat Pay / Alipay whether the order was paid (a found
            # payment is applied as its notification: the per-transaction record in Idempotency)
            # and closes it there: the merchant keys.
            reads_payments_secret=True,
            puts_events=True,
            schedule="rate(1 minute)",
            invokes=("commerce_timers",),            # the flash-sale steps and drops of the next minute
            timeout_seconds=60,
        ),
        FunctionSpec(
            name="order_events",
            description="A refund's result moves its after-sale and order (once per refund); stock goes back "
                        "when the goods never left",
            tables_write=(ORDERS, "Catalog"),        # the order, after-sale, applied refund, outbox; stock back
            puts_events=True,                        # OrderRefunded, StockChanged
            memory_mb=256,
        ),
        FunctionSpec(
            name="commerce_timers",
            description="A flash sale's countdown, start or end, or a coupon drop, at its second",
            # One step: the sale (orders; its stock shards are read for the end) or the drop
            # (marketing), with its event through the context's outbox.
            tables_write=(ORDERS, "Marketing"),
            puts_events=True,
            invokes=("commerce_timers",),            # the next step's timer, when that one is near too
            # Sleeps until its moment, at most shared.timers.TIMER_LEAD_SECONDS (75 s), then one step.
            timeout_seconds=120,
            memory_mb=256,
        ),
    ),
    emits=("OrderCreated", "OrderCancelled", "OrderExpired", "OrderPaid", "OrderRefundRequired",
           "OrderShipped", "OrderDelivered", "AfterSaleRequested", "AfterSaleRefundApproved", "AfterSaleRejected",
           "OrderRefunded",
           "FlashSaleScheduled", "FlashSaleCountdown", "FlashSaleStarted", "FlashSaleSoldOut", "FlashSaleEnded"),
    router="livecommerce.orders.router",
)

"""What the marketing context declares: its table, routes, functions, subscriptions and events."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, IndexSpec, Route, Subscription, TableSpec

# Marketing: coupon templates and drops, the coupons viewers hold, share codes
# and rewards, points balances and ledgers, and the marketing outbox. gsi1:
# drops waiting for their drop event, pending outbox events (sharded).
MARKETING = TableSpec(
    logical_id="Marketing",
    env_var="MARKETING_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
    ttl_attribute="expires_at",
)

SPEC = ContextSpec(
    name="marketing",
    description="Coupon templates, drops and claims, share rewards, the points ledger",
    tables=(MARKETING,),
    routes=(
        Route("POST", "/v1/coupon-templates", "marketing", "token", "host", room_from="body.room_id"),
        Route("POST", "/v1/rooms/{room_id}/coupon-drops", "marketing", "token", "host"),
        Route("GET", "/v1/rooms/{room_id}/coupon-drops", "marketing", "token", "host"),
        Route("GET", "/v1/coupon-drops/{drop_id}", "marketing", "public", "anyone", room_from="path.drop_id"),
        Route("POST", "/v1/coupon-drops/{drop_id}/claim", "marketing", "token", "viewer",
              room_from="path.drop_id"),
        Route("GET", "/v1/me/coupons", "marketing", "token", "viewer"),
        Route("POST", "/v1/rooms/{room_id}/shares", "marketing", "token", "viewer"),
        Route("POST", "/v1/shares/{code}/arrivals", "marketing", "token", "viewer", room_from="path.code"),
        Route("GET", "/v1/me/points", "marketing", "token", "viewer"),
        Route("POST", "/v1/points/redemptions", "marketing", "token", "viewer",
              room_from="body.template_id"),
    ),
    subscriptions=(
        # A paid order earns points (idempotent per order: the ledger entry is keyed by it).
        Subscription("CommercePoints", "commerce_events", detail_types=("OrderPaid", "OrderRefunded")),
    ),
    functions=(
        FunctionSpec(
            name="marketing",
            description="Coupon templates, drops, claims, shares and points",
            # claims and redemptions take an Idempotency-Key; a gift for points commits its zero-amount
            # order (Orders) and takes the gift's units from the product's stock (Catalog) in the same
            # transaction as the points debit (marketing.gifts, through the orders face).
            tables_write=(MARKETING, "Idempotency", "Orders", "Catalog"),
            tables_read=("Rooms", "Identity"),       # drops: room host or assistant grants; shares: room visibility
            reads_cursor_secret=True,                # GET /v1/me/coupons, /v1/me/points, a room's drops
            puts_events=True,
            invokes=("commerce_timers",),            # a drop within the minute: its timer
        ),
        FunctionSpec(
            name="commerce_events",
            description="OrderPaid earns points (once per order)",
            tables_write=(MARKETING,),               # points balance, ledger, per-order ref, outbox
            puts_events=True,                        # PointsChanged
            memory_mb=256,
        ),
    ),
    emits=("CouponTemplateCreated", "CouponDropScheduled", "CouponDropped", "CouponDropExhausted", "CouponClaimed", "CouponRedeemed",
           "ShareRewardConfigured", "ShareArrived", "ShareRewarded", "PointsChanged", "GiftRedeemed"),
    router="livecommerce.marketing.router",
)

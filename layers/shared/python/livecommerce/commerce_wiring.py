"""Wiring of the commerce contexts (catalog, orders, payments, marketing):
routes, tables, subscriptions and routers. See livecommerce.wiring.

Import-light on purpose: only specs. The specs are built on first access
(PEP 562 module __getattr__) rather than at import: livecommerce.shared.routes,
.tables and .subscriptions read this module while they are themselves being
imported, and a module-level `from livecommerce.shared.routes import Route`
here would then hand one of them a half-initialised module (and an empty
tuple) whenever this module happened to be imported first.
"""
from __future__ import annotations

from typing import Any

_built: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name in ("CATALOG", "ORDERS", "MARKETING", "TABLES"):
        return _tables()[name]
    if name == "ROUTES":
        return _routes()
    if name == "SUBSCRIPTIONS":
        return _subscriptions()
    raise AttributeError(name)


def _tables() -> dict[str, Any]:
    if "tables" in _built:
        return _built["tables"]
    from livecommerce.shared.tables import IndexSpec, TableSpec
    if "tables" in _built:  # built while livecommerce.shared.tables was importing (it reads TABLES)
        return _built["tables"]
    # Catalog: the product library, each room's presets (live price, live stock,
    # listing state) and the catalog outbox. gsi1: pending outbox events (sharded).
    CATALOG = TableSpec(
        logical_id="Catalog",
        env_var="CATALOG_TABLE",
        indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
        ttl_attribute="expires_at",
    )

    # Orders: orders and their payment attempts, flash sales with their sharded
    # stock and per-buyer counters, and the orders outbox. gsi1: pending orders by
    # expiry (sharded, swept every minute), sales waiting for their start event,
    # pending outbox events (sharded). gsi2: a buyer's orders, a room's flash sales.
    ORDERS = TableSpec(
        logical_id="Orders",
        env_var="ORDERS_TABLE",
        indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"), IndexSpec("gsi2", "gsi2pk", "gsi2sk")),
        ttl_attribute="expires_at",
    )

    # Marketing: coupon templates and drops, the coupons viewers hold, share codes
    # and rewards, points balances and ledgers, and the marketing outbox. gsi1:
    # drops waiting for their drop event, pending outbox events (sharded).
    MARKETING = TableSpec(
        logical_id="Marketing",
        env_var="MARKETING_TABLE",
        indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
        ttl_attribute="expires_at",
    )
    _built["tables"] = {"CATALOG": CATALOG, "ORDERS": ORDERS, "MARKETING": MARKETING,
                        "TABLES": (CATALOG, ORDERS, MARKETING)}
    return _built["tables"]


def _routes() -> tuple:
    if "routes" in _built:
        return _built["routes"]
    from livecommerce.shared.routes import Route
    if "routes" in _built:
        return _built["routes"]

    routes = (
        # catalog
        Route("POST", "/v1/products", "catalog", "token", "operator"),
        Route("GET", "/v1/products/{product_id}", "catalog", "public", "anyone"),
        Route("PATCH", "/v1/products/{product_id}", "catalog", "token", "operator"),
        Route("PUT", "/v1/rooms/{room_id}/products", "catalog", "token", "host", max_body_bytes=64 * 1024),
        Route("GET", "/v1/rooms/{room_id}/products", "catalog", "token", "host"),
        Route("POST", "/v1/rooms/{room_id}/products/listing", "catalog", "token", "host"),
        Route("DELETE", "/v1/rooms/{room_id}/products/listing", "catalog", "token", "host"),
        Route("POST", "/v1/rooms/{room_id}/products/{product_id}/listing", "catalog", "token", "host"),
        Route("DELETE", "/v1/rooms/{room_id}/products/{product_id}/listing", "catalog", "token", "host"),
        Route("GET", "/v1/rooms/{room_id}/cards", "catalog", "public", "anyone"),
        # orders and flash sales
        Route("POST", "/v1/orders", "orders", "token", "viewer"),
        Route("GET", "/v1/orders/{order_id}", "orders", "token", "owner"),
        Route("GET", "/v1/me/orders", "orders", "token", "viewer"),
        Route("POST", "/v1/orders/{order_id}/cancel", "orders", "token", "owner"),
        Route("POST", "/v1/rooms/{room_id}/flash-sales", "orders", "token", "host"),
        Route("GET", "/v1/rooms/{room_id}/flash-sales", "orders", "public", "anyone"),
        Route("GET", "/v1/flash-sales/{sale_id}", "orders", "public", "anyone"),
        Route("POST", "/v1/flash-sales/{sale_id}/orders", "orders", "token", "viewer"),
        # payments (the only function that reads the payment provider keys)
        Route("POST", "/v1/orders/{order_id}/payments", "payments", "token", "owner"),
        Route("POST", "/v1/payments/wechat/notify", "payments", "public", "provider"),
        Route("POST", "/v1/payments/alipay/notify", "payments", "public", "provider"),
        # marketing
        Route("POST", "/v1/coupon-templates", "marketing", "token", "host"),
        Route("POST", "/v1/rooms/{room_id}/coupon-drops", "marketing", "token", "host"),
        Route("GET", "/v1/coupon-drops/{drop_id}", "marketing", "public", "anyone"),
        Route("POST", "/v1/coupon-drops/{drop_id}/claim", "marketing", "token", "viewer"),
        Route("GET", "/v1/me/coupons", "marketing", "token", "viewer"),
        Route("POST", "/v1/rooms/{room_id}/shares", "marketing", "token", "viewer"),
        Route("POST", "/v1/shares/{code}/arrivals", "marketing", "token", "viewer"),
        Route("GET", "/v1/me/points", "marketing", "token", "viewer"),
        Route("POST", "/v1/points/redemptions", "marketing", "token", "viewer"),
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
        # A paid order earns points (idempotent per order: the ledger entry is keyed by it).
        Subscription("CommercePoints", "commerce_events", detail_types=("OrderPaid",)),
    )
    _built["subscriptions"] = subscriptions
    return subscriptions


def router_builders() -> list:
    from livecommerce.catalog.router import build_router as catalog
    from livecommerce.marketing.router import build_router as marketing
    from livecommerce.orders.router import build_router as orders
    from livecommerce.payments.router import build_router as payments

    return [catalog, orders, payments, marketing]

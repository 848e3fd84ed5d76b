"""What the catalog context declares: its table, routes, function and events."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, IndexSpec, Route, TableSpec

# Catalog: the product library, each room's presets (live price, live stock,
# listing state) and the catalog outbox. gsi1: pending outbox events (sharded).
CATALOG = TableSpec(
    logical_id="Catalog",
    env_var="CATALOG_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
    ttl_attribute="expires_at",
)

SPEC = ContextSpec(
    name="catalog",
    description="Product library, room presets, listings, cards",
    tables=(CATALOG,),
    routes=(
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
    ),
    functions=(
        FunctionSpec(
            name="catalog",
            description="Catalog: product library, room presets, listings, cards",
            tables_write=(CATALOG,),                 # products, presets, the catalog outbox
            tables_read=("Rooms", "Identity"),       # rooms.require_room_host (presets); require_room_staff: assistants (listings)
            puts_events=True,                        # the catalog outbox (ProductListed, StockChanged, ...)
        ),
    ),
    emits=("ProductCreated", "ProductUpdated", "RoomProductsPreset", "ProductListed", "ProductUnlisted",
           "StockChanged"),
    router="livecommerce.catalog.router",
)

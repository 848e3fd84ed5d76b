"""What the platform layer itself declares: the Idempotency-Key table every
context writes in its own transactions, and the API description."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, Route, TableSpec

# Idempotency-Key records (livecommerce.shared.idempotency), written in the same
# transaction as the effect: key attribute "id", records expire by the
# "expiration" TTL attribute.
IDEMPOTENCY = TableSpec(
    logical_id="Idempotency",
    env_var="IDEMPOTENCY_TABLE",
    partition_key="id",
    sort_key=None,
    ttl_attribute="expiration",
)

SPEC = ContextSpec(
    name="platform",
    description="Idempotency records and the API description",
    tables=(IDEMPOTENCY,),
    routes=(
        Route("GET", "/openapi.json", "docs", "public", "anyone"),
        Route("GET", "/docs", "docs", "public", "anyone"),
    ),
    functions=(
        FunctionSpec(
            name="docs",
            description="OpenAPI document and Swagger UI",
            memory_mb=256,
        ),
    ),
)

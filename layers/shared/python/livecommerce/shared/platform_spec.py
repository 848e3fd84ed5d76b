"""What the platform layer itself declares: the Idempotency-Key table every
context writes in its own transactions, the cursor signing key, and the API description."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, Route, SecretSpec, TableSpec

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

# The HMAC-SHA256 key that signs list cursors (livecommerce.shared.paging): a cursor is
# bound to its list and its caller, so a client cannot make one up, edit one, or page
# another user's list with one. Read by the functions whose FunctionSpec says
# reads_cursor_secret (CURSOR_SECRET_ID).
CURSOR_SECRET = SecretSpec(
    logical_id="CursorSigningKey",
    env_var="CURSOR_SECRET_ID",
    name="cursor-signing-key",
    description="HMAC-SHA256 key that signs list cursors (64 random characters)",
)

SPEC = ContextSpec(
    name="platform",
    description="Idempotency records, the cursor signing key and the API description",
    tables=(IDEMPOTENCY,),
    secrets=(CURSOR_SECRET,),
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

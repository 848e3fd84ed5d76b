"""The one source of truth for DynamoDB table shapes.

The CDK data stack builds its tables from these specs, the local stack creates
the same tables in the embedded AWS from them, and the PynamoDB models take
their key and index names from them (tests/unit/test_table_specs.py checks the
models against the specs so they cannot drift).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class TableSpec:
    logical_id: str          # CDK construct id and suffix of the physical name
    env_var: str             # environment variable that carries the physical name
    partition_key: str = "pk"
    sort_key: str | None = "sk"
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None
    stream: bool = False

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}-{self.logical_id.lower()}"


IDENTITY = TableSpec(
    logical_id="Identity",
    env_var="IDENTITY_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
)

# Powertools Idempotency persistence (payment callbacks, order creation):
# key attribute "id", records expire by the "expiration" TTL attribute.
IDEMPOTENCY = TableSpec(
    logical_id="Idempotency",
    env_var="IDEMPOTENCY_TABLE",
    partition_key="id",
    sort_key=None,
    ttl_attribute="expiration",
)

# Every domain event the bus delivers is also kept here for analytics
# (per-room behaviour, stats and exports read from it).
EVENT_LOG = TableSpec(
    logical_id="EventLog",
    env_var="EVENT_LOG_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
    ttl_attribute="expires_at",
)

# Rooms: the room (announcement, schedule, channel, lifecycle), its
# reservations, stream sessions, materials and outbox. gsi1 lists rooms by
# status in start order; gsi2 lists a host's rooms and a viewer's reservations.
ROOMS = TableSpec(
    logical_id="Rooms",
    env_var="ROOMS_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"), IndexSpec("gsi2", "gsi2pk", "gsi2sk")),
    ttl_attribute="expires_at",
)

def _context_tables() -> tuple[TableSpec, ...]:
    from livecommerce import wiring

    return tuple(t for module in wiring.context_modules() for t in getattr(module, "TABLES", ()))


ALL_TABLES: tuple[TableSpec, ...] = (IDENTITY, IDEMPOTENCY, EVENT_LOG, ROOMS) + _context_tables()

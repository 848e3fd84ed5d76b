"""What the analytics context declares: the event log and its consumer."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, IndexSpec, Subscription, TableSpec

# Every domain event the bus delivers is also kept here for analytics
# (per-room behaviour, stats and exports read from it).
EVENT_LOG = TableSpec(
    logical_id="EventLog",
    env_var="EVENT_LOG_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
    ttl_attribute="expires_at",
)

SPEC = ContextSpec(
    name="analytics",
    description="Behaviour events, statistics, tags and exports",
    tables=(EVENT_LOG,),
    subscriptions=(
        # Every domain event is kept in the event log for analytics and audits.
        Subscription("EventLog", "domain_events"),
    ),
    functions=(
        FunctionSpec(
            name="domain_events",
            description="Keeps every domain event in the event log",
            tables_write=(EVENT_LOG,),
            memory_mb=256,
        ),
    ),
)

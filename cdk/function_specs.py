"""What each Lambda function may touch: the source of its IAM grants and of the
table environment variables it gets. Least privilege by default: a function
gets nothing that is not listed here.

The function name is its folder under functions/ (and the name routes and
subscriptions use).
"""
from __future__ import annotations

from dataclasses import dataclass

from livecommerce.shared import tables
from livecommerce.shared.tables import TableSpec


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    description: str
    tables_read: tuple[TableSpec, ...] = ()
    tables_write: tuple[TableSpec, ...] = ()   # write implies read
    reads_token_secret: bool = False
    reads_providers_secret: bool = False
    puts_events: bool = False
    memory_mb: int = 512
    timeout_seconds: int = 10

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
)

BY_NAME: dict[str, FunctionSpec] = {spec.name: spec for spec in FUNCTION_SPECS}

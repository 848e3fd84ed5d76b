"""The manifest: which contexts make up the system, and their declarations put together.

Every context declares itself in its own `spec.py` (tables, routes,
subscriptions, stream consumers, functions, the events it emits). This module
lists those specs, in the order the API describes them, and derives the
tables, routes, functions and subscriptions that CDK, the local stack, the
OpenAPI writer and the tests read. It imports spec modules only (no boto3, no
pydantic, no code that runs), so reading it is cheap everywhere.

Adding a context: write `<context>/spec.py` and add its SPEC here.

Importing `livecommerce.<context>.spec` runs the context's `__init__` (its
public face) first, so a face stays cheap to import: it imports its own
pydantic types at the top and its storage-bound modules inside its
functions, marked `# deferred:` (tests/unit/shared/test_manifest.py checks
that reading the manifest loads nothing that talks to AWS).
"""
from __future__ import annotations

from dataclasses import replace

from livecommerce.analytics.spec import SPEC as ANALYTICS
from livecommerce.catalog.spec import SPEC as CATALOG
from livecommerce.engagement.spec import SPEC as ENGAGEMENT
from livecommerce.notifications.spec import SPEC as NOTIFICATIONS
from livecommerce.identity.spec import SPEC as IDENTITY
from livecommerce.interaction.spec import SPEC as INTERACTION
from livecommerce.marketing.spec import SPEC as MARKETING
from livecommerce.media.spec import SPEC as MEDIA
from livecommerce.orders.spec import SPEC as ORDERS
from livecommerce.payments.spec import SPEC as PAYMENTS
from livecommerce.rooms.spec import SPEC as ROOMS
from livecommerce.shared.platform_spec import SPEC as PLATFORM
from livecommerce.shared.spec import (
    ContextSpec,
    FunctionSpec,
    Route,
    SecretSpec,
    StateMachineSpec,
    StreamConsumer,
    Subscription,
    TableRef,
    TableSpec,
    match_route,
)

CONTEXTS: tuple[ContextSpec, ...] = (
    IDENTITY, ROOMS, PLATFORM, MEDIA, CATALOG, ORDERS, PAYMENTS, MARKETING, INTERACTION, ANALYTICS,
    ENGAGEMENT, NOTIFICATIONS,
)
BY_CONTEXT: dict[str, ContextSpec] = {context.name: context for context in CONTEXTS}

# Tables in the order the data stack and the local stack create them.
ALL_TABLES: tuple[TableSpec, ...] = tuple(
    table for name in ("identity", "platform", "analytics", "rooms", "catalog", "orders", "marketing",
                       "interaction", "engagement", "payments", "notifications", "media") for table in BY_CONTEXT[name].tables)
if len(ALL_TABLES) != sum(len(c.tables) for c in CONTEXTS):
    raise RuntimeError("a context's tables are missing from manifest.ALL_TABLES")
TABLES_BY_ID: dict[str, TableSpec] = {table.logical_id: table for table in ALL_TABLES}

# Secrets the stack generates (the cursor signing key): the data stack and the local stack make them.
ALL_SECRETS: tuple[SecretSpec, ...] = tuple(secret for context in CONTEXTS for secret in context.secrets)

ROUTES: tuple[Route, ...] = tuple(route for context in CONTEXTS for route in context.routes)
SUBSCRIPTIONS: tuple[Subscription, ...] = tuple(
    sub for name in ("analytics", "rooms", "marketing", "interaction", "orders", "payments", "notifications", "media",
                     "engagement")
    for sub in BY_CONTEXT[name].subscriptions)
if len(SUBSCRIPTIONS) != sum(len(c.subscriptions) for c in CONTEXTS):
    raise RuntimeError("a context's subscriptions are missing from manifest.SUBSCRIPTIONS")
STREAM_CONSUMERS: tuple[StreamConsumer, ...] = tuple(
    consumer for context in CONTEXTS for consumer in context.stream_consumers)

# Step Functions state machines (statemachines/<asl>.asl.json): the workflows stack and the local stack.
STATE_MACHINES: tuple[StateMachineSpec, ...] = tuple(
    machine for context in CONTEXTS for machine in context.state_machines)
STATE_MACHINES_BY_KEY: dict[str, StateMachineSpec] = {machine.key: machine for machine in STATE_MACHINES}
if len(STATE_MACHINES_BY_KEY) != len(STATE_MACHINES):
    raise RuntimeError("two contexts declare a state machine with the same key")


def _table(ref: TableRef, function: str) -> TableSpec:
    if isinstance(ref, TableSpec):
        return ref
    try:
        return TABLES_BY_ID[ref]
    except KeyError:
        raise LookupError(f"function {function!r} names table {ref!r}, which no context declares") from None


def _resolved(spec: FunctionSpec) -> FunctionSpec:
    return replace(spec, tables_read=tuple(_table(t, spec.name) for t in spec.tables_read),
                   tables_write=tuple(_table(t, spec.name) for t in spec.tables_write))


# Every function with its table names resolved to the owners' TableSpecs.
FUNCTION_SPECS: tuple[FunctionSpec, ...] = tuple(
    _resolved(function) for name in ("identity", "platform", "analytics", "rooms", "catalog", "orders",
                                     "payments", "marketing", "interaction", "engagement", "notifications", "media")
    for function in BY_CONTEXT[name].functions)
BY_NAME: dict[str, FunctionSpec] = {spec.name: spec for spec in FUNCTION_SPECS}
if len(BY_NAME) != sum(len(c.functions) for c in CONTEXTS):
    raise RuntimeError("two contexts declare the same function, or one is missing from manifest.FUNCTION_SPECS")

# The context each function belongs to (event consumers are found through it).
CONTEXT_OF_FUNCTION: dict[str, str] = {f.name: c.name for c in CONTEXTS for f in c.functions}

FUNCTIONS: tuple[str, ...] = tuple(sorted({r.function for r in ROUTES}))

# Which context publishes each domain event type.
PRODUCERS: dict[str, str] = {}
for _context in CONTEXTS:
    for _detail_type in _context.emits:
        if _detail_type in PRODUCERS:
            raise RuntimeError(f"{_detail_type} is emitted by {PRODUCERS[_detail_type]} and {_context.name}: "
                               "one owner per event type")
        PRODUCERS[_detail_type] = _context.name

ROUTER_MODULES: tuple[str, ...] = tuple(c.router for c in CONTEXTS if c.router)


def routes_for(function: str) -> tuple[Route, ...]:
    return tuple(r for r in ROUTES if r.function == function)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Find the route for a concrete path, as API Gateway does for resources."""
    return match_route(ROUTES, method, path)


def consumers_of(detail_type: str, source: str = "livecommerce") -> tuple[str, ...]:
    """The contexts whose functions subscribe to this event type."""
    return tuple(sorted({CONTEXT_OF_FUNCTION[s.function] for s in SUBSCRIPTIONS
                         if s.matches(source, detail_type)}))

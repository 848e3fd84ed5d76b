"""Contexts that declare their own wiring.

Each module listed here may define ROUTES (livecommerce.shared.routes.Route),
TABLES (TableSpec), SUBSCRIPTIONS (Subscription) and router_builders() (for
the OpenAPI document). The route table, table specs, subscriptions and the
OpenAPI document pick them up, and from those the CDK stacks, the local
stack and the tests. Wiring modules import only specs, never boto3 or pynamodb.
"""
from __future__ import annotations

import importlib
from types import ModuleType

CONTEXT_WIRING: tuple[str, ...] = (
    "livecommerce.commerce_wiring",
    "livecommerce.interaction_wiring",
)


def context_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in CONTEXT_WIRING]

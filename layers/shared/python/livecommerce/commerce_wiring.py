"""Wiring of the commerce contexts (catalog, orders, marketing): routes,
tables, subscriptions and routers. See livecommerce.wiring."""
from __future__ import annotations

ROUTES: tuple = ()
TABLES: tuple = ()
SUBSCRIPTIONS: tuple = ()


def router_builders() -> list:
    return []

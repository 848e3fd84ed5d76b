"""Wiring of the interaction context (danmaku, likes, live broadcasts, timed metadata): routes,
tables, subscriptions and routers. See livecommerce.wiring."""
from __future__ import annotations

ROUTES: tuple = ()
TABLES: tuple = ()
SUBSCRIPTIONS: tuple = ()


def router_builders() -> list:
    return []

"""The composition root of the HTTP API: every context's router builder, in the
order the manifest lists the contexts (the order of the OpenAPI document).

Used by the OpenAPI writer (`make openapi`, livecommerce.shared.openapi) and
the tests that check the document; each function's handler includes only its
own context's router.
"""
from __future__ import annotations

from typing import Any, Callable

from livecommerce import manifest
from livecommerce.analytics.router import build_router as analytics
from livecommerce.catalog.router import build_router as catalog
from livecommerce.engagement.router import build_router as engagement
from livecommerce.identity.router import build_router as identity
from livecommerce.interaction.router import build_router as interaction
from livecommerce.marketing.router import build_router as marketing
from livecommerce.media.router import build_router as media
from livecommerce.notifications.router import build_router as notifications
from livecommerce.orders.router import build_router as orders
from livecommerce.payments.router import build_router as payments
from livecommerce.rooms.router import build_router as rooms
from livecommerce.shared.api import Api

_BY_MODULE: dict[str, Callable[[Api], Any]] = {
    "livecommerce.identity.router": identity,
    "livecommerce.rooms.router": rooms,
    "livecommerce.catalog.router": catalog,
    "livecommerce.orders.router": orders,
    "livecommerce.payments.router": payments,
    "livecommerce.marketing.router": marketing,
    "livecommerce.interaction.router": interaction,
    "livecommerce.analytics.router": analytics,
    "livecommerce.engagement.router": engagement,
    "livecommerce.notifications.router": notifications,
    "livecommerce.media.router": media,
}


def router_builders() -> list[Callable[[Api], Any]]:
    missing = [module for module in manifest.ROUTER_MODULES if module not in _BY_MODULE]
    if missing:
        raise LookupError(f"add the router of {missing} to livecommerce.http_routers")
    return [_BY_MODULE[module] for module in manifest.ROUTER_MODULES]

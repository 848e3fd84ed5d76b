"""Lambda entry for the orders and flash-sale routes (orders, stock holds, cancel, flash sales)."""
from livecommerce.orders.router import build_router
from livecommerce.orders.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("orders", routes=SPEC.routes_for("orders"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
load_at_init(
    "livecommerce.orders.service",
    "livecommerce.orders.flash",
    "livecommerce.orders.fulfilment_service",
    "livecommerce.rooms.service",
    api=api,
    clients=("events",),
)

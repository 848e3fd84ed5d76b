"""Lambda entry for the marketing routes (coupon templates, drops, claims, shares, points)."""
from livecommerce.marketing.router import build_router
from livecommerce.marketing.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("marketing", routes=SPEC.routes_for("marketing"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
load_at_init(
    "livecommerce.marketing.service",
    "livecommerce.marketing.gifts",
    "livecommerce.rooms.service",
    api=api,
    clients=("events",),
)

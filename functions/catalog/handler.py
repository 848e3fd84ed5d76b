"""Lambda entry for the catalog routes (product library, room presets, listings, cards)."""
from livecommerce.catalog.router import build_router
from livecommerce.catalog.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("catalog", routes=SPEC.routes_for("catalog"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
# jwt: its public routes verify a bearer sent to them (Api.optional_caller).
load_at_init(
    "livecommerce.catalog.service",
    "livecommerce.rooms.service",
    "jwt",
    api=api,
    clients=("events",),
)

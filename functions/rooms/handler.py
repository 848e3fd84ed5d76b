"""Lambda entry for the rooms routes (announcements, reservations, ingest, playback, lifecycle, materials)."""
from livecommerce.rooms.router import build_router
from livecommerce.rooms.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("rooms", routes=SPEC.routes_for("rooms"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
# jwt: its public routes verify a bearer sent to them (Api.optional_caller).
load_at_init(
    "livecommerce.rooms.service",
    "livecommerce.rooms.announcement",
    "livecommerce.rooms.materials",
    "livecommerce.identity.service",
    "livecommerce.catalog.service",
    "jwt",
    api=api,
    clients=("events",),
)

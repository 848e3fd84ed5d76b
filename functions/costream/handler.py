"""Lambda entry for the co-streaming and PK routes."""
from livecommerce.media.router import build_router
from livecommerce.media.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("costream", routes=SPEC.routes_for("costream"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
load_at_init(
    "livecommerce.media.service",
    "livecommerce.rooms.service",
    api=api,
    clients=("events",),
)

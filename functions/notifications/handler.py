"""Lambda entry for the notifications routes (the viewer's notice settings)."""
from livecommerce.notifications.router import build_router
from livecommerce.notifications.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("notifications", routes=SPEC.routes_for("notifications"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
load_at_init(
    "livecommerce.notifications.service",
    "livecommerce.notifications.notices",
    api=api,
    clients=("events",),
)

"""Lambda entry for the identity routes (login, me, hosts, follows)."""
from livecommerce.identity.router import build_router
from livecommerce.identity.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("identity", routes=SPEC.routes_for("identity"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
load_at_init(
    "livecommerce.identity.service",
    api=api,
    clients=("events",),
)

"""Lambda entry for the replay routes (livecommerce.media.replay_router)."""
from livecommerce.media.replay_router import build_router
from livecommerce.media.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("replays", routes=SPEC.routes_for("replays"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
load_at_init(
    "livecommerce.media.replays",
    "livecommerce.rooms.service",
    api=api,
    clients=(),
)

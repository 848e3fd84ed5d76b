"""Lambda entry for the real-time room channel's HTTP routes (realtime credentials,
danmaku, likes, danmaku settings, mutes and bans)."""
from livecommerce.interaction.router import build_router
from livecommerce.interaction.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("interaction", routes=SPEC.routes_for("interaction"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
load_at_init(
    "livecommerce.interaction.service",
    "livecommerce.interaction.snapshot",
    "livecommerce.rooms.service",
    api=api,
    clients=("events",),
)

"""Lambda entry for the real-time room channel's HTTP routes (realtime credentials,
danmaku, likes, danmaku settings, mutes and bans)."""
from livecommerce import manifest
from livecommerce.interaction.router import build_router
from livecommerce.shared.api import Api

api = Api("interaction", routes=manifest.routes_for("interaction"))
api.include(build_router(api))
handler = api.handler()

"""Lambda entry for the real-time room channel's HTTP routes (realtime credentials,
danmaku, likes, danmaku settings, mutes and bans)."""
from livecommerce.interaction.router import build_router
from livecommerce.interaction.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("interaction", routes=SPEC.routes_for("interaction"))
api.include(build_router(api))
handler = api.handler()

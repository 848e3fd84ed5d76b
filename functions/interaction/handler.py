"""Lambda entry for the real-time room channel's HTTP routes (realtime credentials,
danmaku, likes, danmaku settings, mutes and bans)."""
from livecommerce.interaction.router import build_router
from livecommerce.shared.api import Api

api = Api("interaction")
api.include(build_router(api))
handler = api.handler()

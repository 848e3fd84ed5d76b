"""Lambda entry for the replay routes (livecommerce.media.replay_router)."""
from livecommerce import manifest
from livecommerce.media.replay_router import build_router
from livecommerce.shared.api import Api

api = Api("replays", routes=manifest.routes_for("replays"))
api.include(build_router(api))
handler = api.handler()

"""Lambda entry for the replay routes (livecommerce.media.replay_router)."""
from livecommerce.media.replay_router import build_router
from livecommerce.media.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("replays", routes=SPEC.routes_for("replays"))
api.include(build_router(api))
handler = api.handler()

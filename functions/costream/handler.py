"""Lambda entry for the co-streaming and PK routes."""
from livecommerce.media.router import build_router
from livecommerce.media.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("costream", routes=SPEC.routes_for("costream"))
api.include(build_router(api))
handler = api.handler()

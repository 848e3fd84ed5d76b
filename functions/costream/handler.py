"""Lambda entry for the co-streaming and PK routes."""
from livecommerce import manifest
from livecommerce.media.router import build_router
from livecommerce.shared.api import Api

api = Api("costream", routes=manifest.routes_for("costream"))
api.include(build_router(api))
handler = api.handler()

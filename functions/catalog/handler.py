"""Lambda entry for the catalog routes (product library, room presets, listings, cards)."""
from livecommerce.catalog.router import build_router
from livecommerce.catalog.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("catalog", routes=SPEC.routes_for("catalog"))
api.include(build_router(api))
handler = api.handler()

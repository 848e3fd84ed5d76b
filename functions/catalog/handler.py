"""Lambda entry for the catalog routes (product library, room presets, listings, cards)."""
from livecommerce import manifest
from livecommerce.catalog.router import build_router
from livecommerce.shared.api import Api

api = Api("catalog", routes=manifest.routes_for("catalog"))
api.include(build_router(api))
handler = api.handler()

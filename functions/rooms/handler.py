"""Lambda entry for the rooms routes (announcements, reservations, ingest, playback, lifecycle, materials)."""
from livecommerce import manifest
from livecommerce.rooms.router import build_router
from livecommerce.shared.api import Api

api = Api("rooms", routes=manifest.routes_for("rooms"))
api.include(build_router(api))
handler = api.handler()

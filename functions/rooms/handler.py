"""Lambda entry for the rooms routes (announcements, reservations, ingest, playback, lifecycle, materials)."""
from livecommerce.rooms.router import build_router
from livecommerce.rooms.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("rooms", routes=SPEC.routes_for("rooms"))
api.include(build_router(api))
handler = api.handler()

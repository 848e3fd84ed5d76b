"""Lambda entry for the notifications routes (the viewer's notice settings)."""
from livecommerce import manifest
from livecommerce.notifications.router import build_router
from livecommerce.shared.api import Api

api = Api("notifications", routes=manifest.routes_for("notifications"))
api.include(build_router(api))
handler = api.handler()

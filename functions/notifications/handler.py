"""Lambda entry for the notifications routes (the viewer's notice settings)."""
from livecommerce.notifications.router import build_router
from livecommerce.notifications.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("notifications", routes=SPEC.routes_for("notifications"))
api.include(build_router(api))
handler = api.handler()

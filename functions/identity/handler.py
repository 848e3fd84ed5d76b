"""Lambda entry for the identity routes (login, me, hosts, follows)."""
from livecommerce import manifest
from livecommerce.identity.router import build_router
from livecommerce.shared.api import Api

api = Api("identity", routes=manifest.routes_for("identity"))
api.include(build_router(api))
handler = api.handler()

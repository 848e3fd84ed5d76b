"""Lambda entry for the marketing routes (coupon templates, drops, claims, shares, points)."""
from livecommerce.marketing.router import build_router
from livecommerce.marketing.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("marketing", routes=SPEC.routes_for("marketing"))
api.include(build_router(api))
handler = api.handler()

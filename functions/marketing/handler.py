"""Lambda entry for the marketing routes (coupon templates, drops, claims, shares, points)."""
from livecommerce import manifest
from livecommerce.marketing.router import build_router
from livecommerce.shared.api import Api

api = Api("marketing", routes=manifest.routes_for("marketing"))
api.include(build_router(api))
handler = api.handler()

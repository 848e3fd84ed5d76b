"""Lambda entry for the analytics routes (post-live report, workbook, viewers, comparisons, product stats)."""
from livecommerce import manifest
from livecommerce.analytics.router import build_router
from livecommerce.shared.api import Api

api = Api("analytics", routes=manifest.routes_for("analytics"))
api.include(build_router(api))
handler = api.handler()

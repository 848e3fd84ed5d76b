"""Lambda entry for the analytics routes (post-live report, workbook, viewers, comparisons, product stats)."""
from livecommerce.analytics.router import build_router
from livecommerce.analytics.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("analytics", routes=SPEC.routes_for("analytics"))
api.include(build_router(api))
handler = api.handler()

"""Lambda entry for the analytics routes (post-live report, workbook, viewers, comparisons, product stats)."""
from livecommerce.analytics.router import build_router
from livecommerce.analytics.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("analytics", routes=SPEC.routes_for("analytics"))
api.include(build_router(api))
handler = api.handler()
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
load_at_init(
    "livecommerce.analytics.report_service",
    "livecommerce.rooms.service",
    api=api,
    clients=("events",),
)

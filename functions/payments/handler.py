"""Lambda entry for payments: starting a WeChat Pay / Alipay payment, and the providers' notifications.

The only function that reads the payment provider keys."""
from livecommerce.payments.router import build_router, lambda_handler
from livecommerce.payments.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api
from livecommerce.shared.warmup import load_at_init

api = Api("payments", routes=SPEC.routes_for("payments"))
api.include(build_router(api))
handler = lambda_handler(api)
# Loaded at init, not on the first request: SnapStart snapshots it (docs/cold-start.md).
load_at_init(
    "livecommerce.payments.service",
    "livecommerce.payments.refunds",
    "livecommerce.payments.reconciliation",
    api=api,
    clients=("events",),
)

"""Lambda entry for payments: starting a WeChat Pay / Alipay payment, and the providers' notifications.

The only function that reads the payment provider keys."""
from livecommerce import manifest
from livecommerce.payments.router import build_router, lambda_handler
from livecommerce.shared.api import Api

api = Api("payments", routes=manifest.routes_for("payments"))
api.include(build_router(api))
handler = lambda_handler(api)

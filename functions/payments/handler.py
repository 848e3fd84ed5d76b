"""Lambda entry for payments: starting a WeChat Pay / Alipay payment, and the providers' notifications.

The only function that reads the payment provider keys."""
from livecommerce.payments.router import build_router, lambda_handler
from livecommerce.payments.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("payments", routes=SPEC.routes_for("payments"))
api.include(build_router(api))
handler = lambda_handler(api)

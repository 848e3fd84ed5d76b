"""Lambda entry for the orders and flash-sale routes (orders, stock holds, cancel, flash sales)."""
from livecommerce.orders.router import build_router
from livecommerce.orders.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("orders", routes=SPEC.routes_for("orders"))
api.include(build_router(api))
handler = api.handler()

"""Lambda entry for the orders and flash-sale routes (orders, stock holds, cancel, flash sales)."""
from livecommerce import manifest
from livecommerce.orders.router import build_router
from livecommerce.shared.api import Api

api = Api("orders", routes=manifest.routes_for("orders"))
api.include(build_router(api))
handler = api.handler()

"""Lambda entry for the engagement routes (lotteries; polls and quizzes)."""
from livecommerce import manifest
from livecommerce.engagement.router import build_router
from livecommerce.shared.api import Api

api = Api("engagement", routes=manifest.routes_for("engagement"))
api.include(build_router(api))
handler = api.handler()

"""Lambda entry for the engagement routes (lotteries; polls and quizzes)."""
from livecommerce.engagement.router import build_router
from livecommerce.engagement.spec import SPEC  # its own context's routes: not the manifest (cold start)
from livecommerce.shared.api import Api

api = Api("engagement", routes=SPEC.routes_for("engagement"))
api.include(build_router(api))
handler = api.handler()

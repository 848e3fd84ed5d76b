"""Engagement routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from livecommerce.shared.api import Api


def _service():
    from livecommerce.engagement import service  # deferred: pynamodb/botocore, not paid at the handler's import

    return service


def build_router(api: Api) -> Router:
    router = Router()
    return router

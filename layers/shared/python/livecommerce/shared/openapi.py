"""The OpenAPI 3.1 document of the whole public API, built from the same
Powertools routers the functions serve. Written to functions/docs/openapi.json
by `make openapi` (a test fails when that file is stale) and served from there
at /openapi.json and /docs."""
from __future__ import annotations

import json
from typing import Any, Callable

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import Server

from livecommerce.shared.api import Api

TITLE = "Live-commerce API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Backend of the live-shopping mini-program. Money is integer fen, times are ISO 8601 UTC, "
    "errors are application/problem+json with a stable `code`. Authenticate with "
    "`Authorization: Bearer <token>` from `POST /v1/auth/login`."
)


def router_builders() -> list[Callable[[Api], Any]]:
    # Every context that serves HTTP adds its router builder here.
    from livecommerce import wiring
    from livecommerce.identity.router import build_router as identity
    from livecommerce.rooms.router import build_router as rooms

    builders = [identity, rooms]
    for module in wiring.context_modules():
        builders.extend(module.router_builders() if hasattr(module, "router_builders") else ())
    return builders


def _security() -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {"bearer": HTTPBearer(bearerFormat="JWT", description="Token from POST /v1/auth/login")}


def schema_dict(api: Api | None = None) -> dict[str, Any]:
    api = api or build_docs_api()
    return json.loads(api.app.get_openapi_json_schema(
        title=TITLE, version=VERSION, description=DESCRIPTION, servers=[Server(url="/")],
        security_schemes=_security()))


def build_docs_api() -> Api:
    api = Api("docs")
    for build in router_builders():
        api.include(build(api))
    api.app.enable_swagger(path="/docs", title=TITLE, version=VERSION, description=DESCRIPTION,
                           security_schemes=_security())

    @api.app.get("/openapi.json", include_in_schema=False)
    def openapi_json():
        return Response(status_code=200, content_type="application/json",
                        body=json.dumps(schema_dict(api), ensure_ascii=False))

    return api


def render() -> str:
    return json.dumps(schema_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"

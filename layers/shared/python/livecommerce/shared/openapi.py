"""The OpenAPI 3.1 document of the whole public API, built from the same
Powertools routers the functions serve. Written to functions/docs/openapi.json
by `make openapi` (a test fails when that file is stale) and served from there
at /openapi.json and /docs. The routers come from the composition root
(livecommerce.http_routers): the platform imports no context."""
from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from livecommerce.shared.api import Api

TITLE = "Live-commerce API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Backend of the live-shopping mini-program. Money is integer fen, times are ISO 8601 UTC, "
    "errors are application/problem+json with a stable `code`. Authenticate with "
    "`Authorization: Bearer <token>` from `POST /v1/auth/login`."
)


def _security() -> dict[str, Any]:
    return {"bearer": HTTPBearer(bearerFormat="JWT", description="Token from POST /v1/auth/login")}


def schema_dict(api: Api) -> dict[str, Any]:
    return json.loads(api.app.get_openapi_json_schema(
        title=TITLE, version=VERSION, description=DESCRIPTION, servers=[Server(url="/")],
        security_schemes=_security()))


def build_docs_api(router_builders: Iterable[Callable[[Api], Any]]) -> Api:
    """An Api with every router included (the composition root passes the builders)."""
    api = Api("docs")
    for build in router_builders:
        api.include(build(api))
    api.app.enable_swagger(path="/docs", title=TITLE, version=VERSION, description=DESCRIPTION,
                           security_schemes=_security())

    @api.app.get("/openapi.json", include_in_schema=False)
    def openapi_json():
        return Response(status_code=200, content_type="application/json",
                        body=json.dumps(schema_dict(api), ensure_ascii=False))

    return api


def render(router_builders: Iterable[Callable[[Api], Any]]) -> str:
    document = schema_dict(build_docs_api(router_builders))
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"

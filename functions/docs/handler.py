"""Lambda entry that serves the OpenAPI 3.1 document and Swagger UI.

The document is generated from the routers by `make openapi` and shipped next
to this file (tests/integration/test_openapi.py fails when it is stale), so
this function does not import every context's models at cold start.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from livecommerce.shared.gateway_responses import body_for
from livecommerce.shared.observability import logger

SPEC_PATH = Path(__file__).resolve().parent / "openapi.json"
_cache: dict[str, str] = {}


def _spec() -> str:
    if "spec" not in _cache:
        _cache["spec"] = SPEC_PATH.read_text(encoding="utf-8")
    return _cache["spec"]


def _swagger_html() -> str:
    if "html" not in _cache:
        from aws_lambda_powertools.event_handler.openapi import swagger_ui  # deferred: /docs only
        from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html  # deferred: /docs only

        assets = Path(swagger_ui.__file__).resolve().parent
        _cache["html"] = generate_swagger_html(
            json.dumps(json.loads(_spec())).replace("</", "<\\/"),
            (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
            (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
            "", None)
    return _cache["html"]


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = event.get("path") or ""
    if path.endswith("/openapi.json"):
        return {"statusCode": 200, "headers": {"Content-Type": "application/json",
                                               "Cache-Control": "public, max-age=300"}, "body": _spec()}
    if path.endswith("/docs"):
        return {"statusCode": 200, "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": _swagger_html()}
    return {"statusCode": 404, "headers": {"Content-Type": "application/problem+json"},
            "body": body_for("MISSING_AUTHENTICATION_TOKEN")}

"""The OpenAPI document: served, complete, and the committed copy is current."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from livecommerce.manifest import ROUTES

pytestmark = pytest.mark.integration
COMMITTED = Path(__file__).resolve().parents[3] / "functions" / "docs" / "openapi.json"


def test_committed_openapi_is_not_stale():
    from livecommerce.http_routers import router_builders
    from livecommerce.shared.openapi import render

    assert COMMITTED.read_text(encoding="utf-8") == render(router_builders(), ROUTES), \
        "functions/docs/openapi.json is stale: run `make openapi` and commit it"


def test_openapi_served_and_covers_every_api_route(api):
    response = api.call("GET", "/openapi.json")
    assert response.status == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    served = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    expected = {(r.method, r.path) for r in ROUTES if r.function != "docs"}
    assert expected == served
    assert doc["paths"]["/v1/me"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in doc["paths"]["/v1/auth/login"]["post"]


def test_swagger_ui_is_served(api):
    response = api.call("GET", "/docs")
    assert response.status == 200
    assert "swagger" in response.body.lower()
    assert response.headers["Content-Type"].startswith("text/html")


# ------------------------------------------------------------------ the document tells the truth

def _document() -> dict:
    from livecommerce.http_routers import router_builders
    from livecommerce.shared.openapi import render

    return json.loads(render(router_builders(), ROUTES))


def _operations(doc: dict):
    declared = {(r.method, r.path): r for r in ROUTES}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            yield declared[(method.upper(), path)], operation


def test_every_error_is_a_problem_with_the_shared_schema():
    doc = _document()
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert "errors" in problem["properties"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for route, operation in _operations(doc):
        for status, response in operation["responses"].items():
            # A payment provider's notification is answered in the provider's format (its own statuses).
            if int(status) >= 400 and not (route.who == "provider" and "application/problem+json"
                                           not in response["content"]):
                assert response["content"]["application/problem+json"]["schema"] == \
                    {"$ref": "#/components/schemas/Problem"}, (route.key, status)


def test_error_statuses_follow_the_route_facts():
    doc = _document()
    for route, operation in _operations(doc):
        statuses = {int(s) for s in operation["responses"]}
        assert 429 in statuses, route.key
        if route.auth == "token":
            assert operation["security"] == [{"bearer": []}] and 401 in statuses, route.key
        if route.who in ("host", "operator"):
            assert 403 in statuses, route.key
        if "{" in route.path:
            assert 404 in statuses, route.key
        if route.method in ("POST", "PUT", "PATCH") and route.integration is not None:
            # No Lambda precheck: API Gateway's own limit (413), content type (415), validator (422).
            assert {413, 415, 422} <= statuses, route.key
        elif route.method in ("POST", "PUT", "PATCH"):
            assert {400, 413, 415} <= statuses, route.key
            assert str(route.max_body_bytes) in operation["responses"]["413"]["description"], route.key
        if operation.get("parameters") or "requestBody" in operation:
            assert 422 in statuses, route.key
        assert set(route.errors) <= statuses, route.key


def test_success_statuses_are_the_ones_the_routes_return():
    doc = _document()
    success = {(m.upper(), p): sorted(int(s) for s in o["responses"] if int(s) < 400)
               for p, ops in doc["paths"].items() for m, o in ops.items()}
    assert success[("POST", "/v1/rooms")] == [201]
    assert success[("POST", "/v1/orders")] == [201]
    assert success[("POST", "/v1/rooms/{room_id}/likes")] == [202]
    assert success[("PUT", "/v1/rooms/{room_id}/reservation")] == [200, 201]
    assert success[("GET", "/v1/rooms")] == [200]
    assert success[("POST", "/v1/payments/wechat/notify")] == [200]
    notify = doc["paths"]["/v1/payments/wechat/notify"]["post"]["responses"]
    assert "application/json" in notify["400"]["content"]   # {"code": "FAIL"}, as WeChat Pay reads it


def test_optional_bearer_route_documents_401():
    operation = _document()["paths"]["/v1/rooms/{room_id}"]["get"]
    assert operation["security"] == [{}, {"bearer": []}]
    assert "401" in operation["responses"]


def test_success_statuses_are_read_from_the_return_statements():
    from livecommerce.shared.openapi import success_statuses

    def plain():
        return {}

    def created():
        if plain():
            return {}, 201
        return {}, 201 if plain() else 200

    def computed(status):
        return {}, status

    assert success_statuses(plain) == {200}
    assert success_statuses(plain, 204) == {204}
    assert success_statuses(created) == {200, 201}
    assert success_statuses(computed) is None


def test_a_route_answering_an_undeclared_response_fails_the_writer():
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.api_gateway import Router

    from livecommerce.shared.openapi import render
    from livecommerce.shared.spec import Route

    def build(api):
        router = Router()

        @router.post("/v1/hooks")
        def hook():
            return Response(status_code=204, body="")

        return router

    with pytest.raises(LookupError, match="declare its statuses"):
        render([build], (Route("POST", "/v1/hooks", "docs", "public", "provider"),))
    with pytest.raises(LookupError, match="not declared"):
        render([build], ())

"""The OpenAPI document: served, complete, and the committed copy is current."""
from __future__ import annotations

from pathlib import Path

import pytest

from livecommerce.manifest import ROUTES

pytestmark = pytest.mark.integration
COMMITTED = Path(__file__).resolve().parents[3] / "functions" / "docs" / "openapi.json"


def test_committed_openapi_is_not_stale():
    from livecommerce.http_routers import router_builders
    from livecommerce.shared.openapi import render

    assert COMMITTED.read_text(encoding="utf-8") == render(router_builders()), \
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

"""Every route against anonymous, viewer, host of another room, host and operator.

A route added to the route table without a row here fails
test_every_route_has_a_matrix_row, so the matrix cannot fall behind.
"""
from __future__ import annotations

import pytest

from livecommerce.shared.routes import ROUTES

pytestmark = pytest.mark.integration

CALLERS = ("anonymous", "viewer", "other_host", "host", "operator")
USER_OF = {"viewer": "viewer-1", "other_host": "host-2", "host": "host-1", "operator": "operator-1"}
ALLOWED, UNAUTHENTICATED, FORBIDDEN = "allowed", 401, 403

EVERYONE = dict.fromkeys(CALLERS, ALLOWED)
LOGGED_IN = {"anonymous": UNAUTHENTICATED, **dict.fromkeys(CALLERS[1:], ALLOWED)}
OPERATORS = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": FORBIDDEN,
             "host": FORBIDDEN, "operator": ALLOWED}

# route key -> (request builder, expected outcome per caller)
MATRIX = {
    "POST /v1/auth/login": (lambda: ("POST", "/v1/auth/login", {"provider": "dev", "code": "viewer-1"}),
                            EVERYONE),
    "GET /v1/me": (lambda: ("GET", "/v1/me", None), LOGGED_IN),
    "POST /v1/hosts": (lambda: ("POST", "/v1/hosts", {"user_id": "viewer-2", "display_name": "V2"}),
                       OPERATORS),
    "GET /v1/hosts/{host_id}": (lambda: ("GET", "/v1/hosts/host-1", None), EVERYONE),
    "PUT /v1/hosts/{host_id}/follow": (lambda: ("PUT", "/v1/hosts/host-1/follow", None), LOGGED_IN),
    "DELETE /v1/hosts/{host_id}/follow": (lambda: ("DELETE", "/v1/hosts/host-1/follow", None), LOGGED_IN),
    "GET /openapi.json": (lambda: ("GET", "/openapi.json", None), EVERYONE),
    "GET /docs": (lambda: ("GET", "/docs", None), EVERYONE),
}


def test_every_route_has_a_matrix_row():
    assert {r.key for r in ROUTES} == set(MATRIX)


@pytest.mark.parametrize("route_key", sorted(MATRIX))
def test_route_against_every_caller(api, tokens_for, route_key):
    build, expected = MATRIX[route_key]
    for caller in CALLERS:
        method, path, body = build()
        token = tokens_for(USER_OF[caller]) if caller != "anonymous" else None
        response = api.call(method, path, json_body=body, token=token)
        outcome = expected[caller]
        assert response.status < 500, (route_key, caller, response.body)
        if outcome == ALLOWED:
            assert response.status not in (401, 403), (route_key, caller, response.body)
        else:
            assert response.status == outcome, (route_key, caller, response.status, response.body)
            assert response.json()["code"] in {"unauthorized", "operator_required", "host_required",
                                               "forbidden"}

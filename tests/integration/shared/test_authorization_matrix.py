"""Every route against anonymous, viewer, host of another room, host and operator.

A route added to the route table without a row here fails
test_every_route_has_a_matrix_row, so the matrix cannot fall behind.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from livecommerce.manifest import ROUTES

pytestmark = pytest.mark.integration

CALLERS = ("anonymous", "viewer", "other_host", "host", "operator")
USER_OF = {"viewer": "viewer-1", "other_host": "host-2", "host": "host-1", "operator": "operator-1"}
ALLOWED, UNAUTHENTICATED, FORBIDDEN = "allowed", 401, 403

EVERYONE = dict.fromkeys(CALLERS, ALLOWED)
LOGGED_IN = {"anonymous": UNAUTHENTICATED, **dict.fromkeys(CALLERS[1:], ALLOWED)}
OPERATORS = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": FORBIDDEN,
             "host": FORBIDDEN, "operator": ALLOWED}
HOSTS = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": ALLOWED,
         "host": ALLOWED, "operator": ALLOWED}
ROOM_HOST = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": FORBIDDEN,
             "host": ALLOWED, "operator": ALLOWED}
START = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()

# route key -> (request builder taking the room id of host-1's room, expected outcome per caller)
MATRIX = {
    "POST /v1/auth/login": (lambda r: ("POST", "/v1/auth/login", {"provider": "dev", "code": "viewer-1"}),
                            EVERYONE),
    "GET /v1/me": (lambda r: ("GET", "/v1/me", None), LOGGED_IN),
    "POST /v1/hosts": (lambda r: ("POST", "/v1/hosts", {"user_id": "viewer-2", "display_name": "V2"}),
                       OPERATORS),
    "GET /v1/hosts/{host_id}": (lambda r: ("GET", "/v1/hosts/host-1", None), EVERYONE),
    "PUT /v1/hosts/{host_id}/follow": (lambda r: ("PUT", "/v1/hosts/host-1/follow", None), LOGGED_IN),
    "DELETE /v1/hosts/{host_id}/follow": (lambda r: ("DELETE", "/v1/hosts/host-1/follow", None), LOGGED_IN),
    "POST /v1/rooms": (lambda r: ("POST", "/v1/rooms", {"title": "t", "scheduled_start": START}), HOSTS),
    "GET /v1/rooms": (lambda r: ("GET", "/v1/rooms?status=scheduled", None), EVERYONE),
    "GET /v1/rooms/{room_id}": (lambda r: ("GET", f"/v1/rooms/{r}", None), EVERYONE),
    "PATCH /v1/rooms/{room_id}": (lambda r: ("PATCH", f"/v1/rooms/{r}", {"topic": "new"}), ROOM_HOST),
    "PUT /v1/rooms/{room_id}/reservation": (
        lambda r: ("PUT", f"/v1/rooms/{r}/reservation", {"subscribe_message": True}), LOGGED_IN),
    "DELETE /v1/rooms/{room_id}/reservation": (lambda r: ("DELETE", f"/v1/rooms/{r}/reservation", None),
                                               LOGGED_IN),
    "GET /v1/me/reservations": (lambda r: ("GET", "/v1/me/reservations", None), LOGGED_IN),
    "GET /v1/rooms/{room_id}/ingest": (lambda r: ("GET", f"/v1/rooms/{r}/ingest", None), ROOM_HOST),
    "POST /v1/rooms/{room_id}/stream-key/rotate": (
        lambda r: ("POST", f"/v1/rooms/{r}/stream-key/rotate", None), ROOM_HOST),
    "GET /v1/rooms/{room_id}/playback": (lambda r: ("GET", f"/v1/rooms/{r}/playback", None), LOGGED_IN),
    "POST /v1/rooms/{room_id}/start": (lambda r: ("POST", f"/v1/rooms/{r}/start", None), ROOM_HOST),
    "POST /v1/rooms/{room_id}/end": (lambda r: ("POST", f"/v1/rooms/{r}/end", None), ROOM_HOST),
    "POST /v1/rooms/{room_id}/materials": (
        lambda r: ("POST", f"/v1/rooms/{r}/materials",
                   {"filename": "s.txt", "content_type": "text/plain", "size_bytes": 5}), ROOM_HOST),
    "GET /v1/rooms/{room_id}/materials": (lambda r: ("GET", f"/v1/rooms/{r}/materials", None), ROOM_HOST),
    "GET /openapi.json": (lambda r: ("GET", "/openapi.json", None), EVERYONE),
    "GET /docs": (lambda r: ("GET", "/docs", None), EVERYONE),
}


from tests.integration.orders.test_commerce_authorization import COMMERCE_MATRIX  # noqa: E402

MATRIX.update(COMMERCE_MATRIX)
MATRIX.update({
    "GET /v1/rooms/{room_id}/realtime": (lambda r: ("GET", f"/v1/rooms/{r}/realtime", None), LOGGED_IN),
    "POST /v1/rooms/{room_id}/danmaku": (lambda r: ("POST", f"/v1/rooms/{r}/danmaku", {"text": "hi"}), LOGGED_IN),
    "POST /v1/rooms/{room_id}/likes": (lambda r: ("POST", f"/v1/rooms/{r}/likes", {"count": 1}), LOGGED_IN),
    "GET /v1/rooms/{room_id}/danmaku-settings": (lambda r: ("GET", f"/v1/rooms/{r}/danmaku-settings", None),
                                                 ROOM_HOST),
    "PUT /v1/rooms/{room_id}/danmaku-settings": (
        lambda r: ("PUT", f"/v1/rooms/{r}/danmaku-settings", {"quick_phrases": ["想要"]}), ROOM_HOST),
    "PUT /v1/rooms/{room_id}/mutes/{user_id}": (
        lambda r: ("PUT", f"/v1/rooms/{r}/mutes/viewer-2", {"duration_seconds": 60}), ROOM_HOST),
    "DELETE /v1/rooms/{room_id}/mutes/{user_id}": (lambda r: ("DELETE", f"/v1/rooms/{r}/mutes/viewer-2", None),
                                                   ROOM_HOST),
    "PUT /v1/rooms/{room_id}/bans/{user_id}": (lambda r: ("PUT", f"/v1/rooms/{r}/bans/viewer-2", {}), ROOM_HOST),
    "DELETE /v1/rooms/{room_id}/bans/{user_id}": (lambda r: ("DELETE", f"/v1/rooms/{r}/bans/viewer-2", None),
                                                  ROOM_HOST),
})


def test_every_route_has_a_matrix_row():
    assert {r.key for r in ROUTES} == set(MATRIX)


@pytest.fixture
def room_of_host_1(api, tokens_for, ivs_env):
    created = api.call("POST", "/v1/rooms", token=tokens_for("host-1"),
                       json_body={"title": "matrix", "scheduled_start": START})
    assert created.status == 201, created.body
    return created.json()["id"]


@pytest.mark.parametrize("route_key", sorted(MATRIX))
def test_route_against_every_caller(api, tokens_for, room_of_host_1, route_key):
    build, expected = MATRIX[route_key]
    for caller in CALLERS:
        method, path, body = build(room_of_host_1)
        token = tokens_for(USER_OF[caller]) if caller != "anonymous" else None
        response = api.call(method, path, json_body=body, token=token)
        outcome = expected[caller]
        assert response.status < 500, (route_key, caller, response.body)
        if outcome == ALLOWED:
            assert response.status not in (401, 403), (route_key, caller, response.body)
        else:
            assert response.status == outcome, (route_key, caller, response.status, response.body)
            assert response.json()["code"] in {"unauthorized", "operator_required", "host_required",
                                               "forbidden", "not_room_host"}

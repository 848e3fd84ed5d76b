"""The real-time channel of a test room (a rehearsal) through the real handlers: the realtime
credentials route and the IoT Core custom authorizer refuse everyone who does not run the room
exactly as they refuse a room that does not exist; its host and operators connect."""
from __future__ import annotations

import pytest

from local.mqtt.broker import authorizer_event

pytestmark = pytest.mark.integration
NOWHERE = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def authorize(username, password, client_id):
    from local.lambda_runtime import invoke

    return invoke("realtime_authorizer", authorizer_event(username, password, client_id))


def answer(response):
    body = response.json()
    body.pop("correlation_id", None)
    return response.status, body


def test_a_test_rooms_channel_is_for_those_who_run_it(api, tokens_for, make_room):
    rehearsal, public = make_room(visibility="test"), make_room()
    for user in ("viewer-1", "host-2"):
        token = tokens_for(user)
        hidden = api.call("GET", f"/v1/rooms/{rehearsal}/realtime", token=token)
        assert answer(hidden) == answer(api.call("GET", f"/v1/rooms/{NOWHERE}/realtime", token=token))
        assert hidden.status == 404 and hidden.json()["code"] == "room_not_found"
        # Credentials of a public room do not open the test room's topics either.
        granted = api.call("GET", f"/v1/rooms/{public}/realtime", token=token).json()
        username, password = granted["credentials"]["username"], granted["credentials"]["password"]
        assert authorize(username, password, granted["client_id"])["isAuthenticated"] is True
        assert authorize(rehearsal, password, granted["client_id"]) == {"isAuthenticated": False}
        assert authorize(rehearsal, password, granted["client_id"]) == authorize(NOWHERE, password,
                                                                                granted["client_id"])
    for user in ("host-1", "operator-1"):
        granted = api.call("GET", f"/v1/rooms/{rehearsal}/realtime", token=tokens_for(user))
        assert granted.status == 200, granted.body
        creds = granted.json()
        assert authorize(creds["credentials"]["username"], creds["credentials"]["password"],
                         creds["client_id"])["isAuthenticated"] is True

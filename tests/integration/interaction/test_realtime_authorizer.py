"""The IoT Core custom authorizer through its real handler: our login token in,
the room's viewer policy out; everything else refused."""
from __future__ import annotations

import pytest

from livecommerce.interaction import policy
from local.mqtt.broker import authorizer_event

pytestmark = pytest.mark.integration


def authorize(username, password, client_id):
    from local.lambda_runtime import invoke

    return invoke("realtime_authorizer", authorizer_event(username, password, client_id))


def credentials(api, token, room):
    body = api.call("GET", f"/v1/rooms/{room}/realtime", token=token).json()
    return body["credentials"]["username"], body["credentials"]["password"], body["client_id"], body["topics"]


def test_viewer_gets_exactly_the_rooms_topics(api, tokens_for, room, make_room):
    username, password, client_id, names = credentials(api, tokens_for("viewer-1"), room)
    result = authorize(username, password, client_id)
    assert result["isAuthenticated"] is True
    assert result["principalId"].isalnum() and 300 <= result["disconnectAfterInSeconds"] <= 86400
    assert result["refreshAfterInSeconds"] == 300
    docs = result["policyDocuments"]
    assert policy.allows(docs, policy.CONNECT, f"client/{client_id}")
    assert not policy.allows(docs, policy.CONNECT, "client/lc-local-viewer-2-aaaaaaaaaaaa")
    for topic in names.values():
        assert policy.allows(docs, policy.SUBSCRIBE, f"topicfilter/{topic}")
        assert policy.allows(docs, policy.RECEIVE, f"topic/{topic}")
        assert not policy.allows(docs, policy.PUBLISH, f"topic/{topic}")
    other_room = make_room(host="host-2")
    for forbidden in (f"lc/local/rooms/{room}/users/viewer-2", f"lc/local/rooms/{room}/users/+",
                      f"lc/local/rooms/{room}/#", f"lc/local/rooms/{other_room}/danmaku", "lc/local/rooms/+/danmaku",
                      "#", f"lc/dev/rooms/{room}/danmaku"):
        assert not policy.allows(docs, policy.SUBSCRIBE, f"topicfilter/{forbidden}"), forbidden
    assert not policy.allows(docs, policy.RECEIVE, f"topic/lc/local/rooms/{room}/users/viewer-2")


def test_refusals(api, tokens_for, room, make_room):
    viewer = tokens_for("viewer-1")
    username, password, client_id, _ = credentials(api, viewer, room)
    refused = [
        (username, None, client_id),                                # no token
        (username, "not-a-jwt", client_id),                         # bad token
        (username, password[:-3] + "abc", client_id),                # tampered
        (username, password, "lc-local-viewer-2-abcdefabcdef"),      # someone else's client id
        (username, password, "lc-local-viewer-1"),                   # not ours either
        (username, password, ""),
        ("", password, client_id),                                   # no room
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", password, client_id),         # no such room
        ("../../#", password, client_id),
    ]
    for case in refused:
        assert authorize(*case) == {"isAuthenticated": False}, case
    rehearsal = make_room(visibility="test")
    assert authorize(rehearsal, password, client_id) == {"isAuthenticated": False}
    host = tokens_for("host-1")
    _, host_password, host_client, _ = credentials(api, host, rehearsal)
    assert authorize(rehearsal, host_password, host_client)["isAuthenticated"] is True
    # A ban ends the session at the next refresh; an ended room too.
    assert api.call("PUT", f"/v1/rooms/{room}/bans/viewer-1", token=host, json_body={}).status == 200
    assert authorize(username, password, client_id) == {"isAuthenticated": False}
    assert api.call("POST", f"/v1/rooms/{room}/end", token=host).status == 200
    _, p2, c2, _ = credentials(api, tokens_for("viewer-2"), make_room())
    assert authorize(username.split("?")[0], p2, c2.replace("viewer-2", "viewer-2")) == {"isAuthenticated": False}


def test_username_may_carry_the_authorizer_query(api, tokens_for, room, monkeypatch):
    from livecommerce.interaction.settings import reset_interaction_settings

    monkeypatch.setenv("REALTIME_AUTHORIZER_NAME", "livecommerce-local-realtime")
    reset_interaction_settings()
    username, password, client_id, _ = credentials(api, tokens_for("viewer-2"), room)
    assert username == f"{room}?x-amz-customauthorizer-name=livecommerce-local-realtime"
    assert authorize(username, password, client_id)["isAuthenticated"] is True


def test_token_in_websocket_header_or_query(api, tokens_for, room):
    from local.lambda_runtime import invoke

    _, password, client_id, _ = credentials(api, tokens_for("viewer-1"), room)
    for http in ({"headers": {"X-LC-Token": password}}, {"queryString": f"?token={password}"}):
        event = {"protocols": ["mqtt", "http"], "signatureVerified": False,
                 "protocolData": {"mqtt": {"username": room, "clientId": client_id}, "http": http},
                 "connectionMetadata": {"id": "x"}}
        assert invoke("realtime_authorizer", event)["isAuthenticated"] is True

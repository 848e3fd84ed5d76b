"""Issue 17 outcome 1: the room-entry snapshot (GET /v1/rooms/{room_id}/snapshot), the same
document for every viewer, with the Cache-Control the edge caches it by; test rooms and
rooms that do not exist are 404 to everyone, cached as briefly; nothing per viewer in it."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

GHOST = "01HZZZZZZZZZZZZZZZZZZZZZZZ"


def test_snapshot_of_a_live_room_and_what_never_leaks(api, tokens_for, make_room):
    host, operator = tokens_for("host-1"), tokens_for("operator-1")
    room = make_room()
    product = api.call("POST", "/v1/products", token=operator,
                       json_body={"name": "羽绒服", "list_price": 59900, "stock": 50}).json()["id"]
    assert api.call("PUT", f"/v1/rooms/{room}/products", token=host, json_body={
        "items": [{"product_id": product, "live_price": 39900, "live_stock": 20}]}).status == 200
    assert api.call("POST", f"/v1/rooms/{room}/products/listing", token=host).status in (200, 201)
    assert api.call("POST", f"/v1/rooms/{room}/likes", token=tokens_for("viewer-1"),
                    json_body={"count": 7}).status in (200, 201, 202)

    anonymous = api.call("GET", f"/v1/rooms/{room}/snapshot")
    assert anonymous.status == 200, anonymous.body
    assert anonymous.headers["Cache-Control"] == "public, max-age=1, stale-while-revalidate=2"
    body = anonymous.json()
    assert body["room"]["id"] == room and body["room"]["status"] == "live"
    assert body["host"]["id"] == "host-1"
    assert [(c["product_id"], c["live_price"], c["stock_left"]) for c in body["cards"]] == [(product, 39900, 20)]
    assert body["likes_total"] == 7 and body["server_time"]
    # The same for a logged-in viewer (the caller is never read): one cache entry serves all.
    viewer = api.call("GET", f"/v1/rooms/{room}/snapshot", token=tokens_for("viewer-2")).json()
    assert {k: v for k, v in viewer.items() if k != "server_time"} == \
        {k: v for k, v in body.items() if k != "server_time"}
    assert "viewer-2" not in api.call("GET", f"/v1/rooms/{room}/snapshot", token=tokens_for("viewer-2")).body

    # A test room is 404 to everyone here, its host included, exactly like no room at all, and
    # the 404 carries the same short cache lifetime (negative caching at the edge).
    rehearsal = make_room(visibility="test")
    for token in (None, host, operator):
        hidden = api.call("GET", f"/v1/rooms/{rehearsal}/snapshot", token=token)
        assert hidden.status == 404 and hidden.json()["code"] == "room_not_found", hidden.body
        assert hidden.headers["Cache-Control"] == "public, max-age=1, stale-while-revalidate=2"
        assert hidden.headers["Content-Type"].startswith("application/problem+json")
    ghost = api.call("GET", f"/v1/rooms/{GHOST}/snapshot")
    assert ghost.status == 404 and ghost.json()["code"] == "room_not_found"
    assert ghost.json()["detail"] == hidden.json()["detail"]             # indistinguishable from a test room
    assert api.call("GET", "/v1/rooms/not-a-room/snapshot").status == 422     # malformed id: never reaches a read

    # An ended room: what it was, nothing on show any more.
    assert api.call("POST", f"/v1/rooms/{room}/end", token=host).status == 200
    ended = api.call("GET", f"/v1/rooms/{room}/snapshot").json()
    assert ended["room"]["status"] == "ended" and ended["cards"] == [] and ended["flash_sale"] is None

"""Issue 17 outcome 4: a big room's crowd danmaku read from the edge. The host switches the room
to poll mode: connected clients get a `delivery` message on the events topic, the realtime
route says `poll`, batches stop going to the danmaku topic and become numbered feed pages
(GET /v1/rooms/{room_id}/feed?seq=N, cached 1 s), read in order, each once; the sender's own
echo stays pushed. Switching back pushes again."""
from __future__ import annotations

import pytest

from tests.polling import poll

pytestmark = pytest.mark.integration


def danmaku(api, token, room_id, text):
    return api.call("POST", f"/v1/rooms/{room_id}/danmaku", token=token, json_body={"text": text})


def test_switch_to_poll_then_read_the_feed_in_order_once(api, tokens_for, room, published):
    host = tokens_for("host-1")
    switched = api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host, json_body={"delivery": "poll"})
    assert switched.status == 200 and switched.json()["delivery"] == "poll", switched.body
    controls = [m for m in published.on("/events") if m.get("type") == "delivery"]
    assert controls and controls[-1]["mode"] == "poll" and controls[-1]["feed"] == f"/v1/rooms/{room}/feed"
    assert api.call("GET", f"/v1/rooms/{room}/realtime", token=tokens_for("viewer-1")).json()["delivery"] == "poll"
    assert api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=tokens_for("viewer-1"),
                    json_body={"delivery": "push"}).status in (403, 404)       # hosts and moderators only
    bad = api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host, json_body={"delivery": "carrier-pigeon"})
    assert bad.status == 422

    sent = []
    for n in range(6):
        response = danmaku(api, api.login(f"crowd-{n}"), room, f"第{n}个问题：有优惠吗")
        assert response.status == 201, response.body
        sent.append(response.json()["id"])
    assert published.on("/danmaku") == []                      # nothing pushed to the crowd
    assert len(published.on("/users/crowd-0")) == 1            # the sender's own echo still is

    def everything():
        seen, seqs, after = [], [], 0
        while True:
            page = api.call("GET", f"/v1/rooms/{room}/feed?seq={after}")
            assert page.status == 200 and page.headers["Cache-Control"] == "public, max-age=1", page.body
            body = page.json()
            if not body["pages"]:
                return seen, seqs, body
            seqs.extend(p["seq"] for p in body["pages"])
            seen.extend(i["id"] for p in body["pages"] for i in p["items"])
            after = body["next_seq"]

    found = poll(lambda: everything() if len(everything()[0]) == 6 else None, 15.0)
    assert found is not None
    seen, seqs, last = found
    assert sorted(seen) == sorted(sent) and len(seen) == len(set(seen))    # each once
    assert seqs == list(range(1, len(seqs) + 1))                            # in order, no gaps
    assert last["delivery"] == "poll" and last["missed"] == 0 and last["poll_interval_ms"] == 1500
    # A client that asks from the middle gets only what follows; a seq past the end gets nothing.
    if len(seqs) > 1:
        tail = api.call("GET", f"/v1/rooms/{room}/feed?seq={seqs[0]}").json()
        assert [p["seq"] for p in tail["pages"]] == seqs[1:]
    assert api.call("GET", f"/v1/rooms/{room}/feed?seq=-1").status == 422
    assert api.call("GET", f"/v1/rooms/{room}/feed?seq=abc").status == 422

    back = api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host, json_body={"delivery": "push"})
    assert back.json()["delivery"] == "push"
    assert [m for m in published.on("/events") if m.get("type") == "delivery"][-1]["mode"] == "push"
    assert danmaku(api, api.login("crowd-9"), room, "又回来了").status == 201
    assert poll(lambda: published.on("/danmaku") or None, 10.0)               # pushed again


def test_feed_of_a_test_room_is_404_to_everyone(api, tokens_for, make_room):
    rehearsal = make_room(visibility="test")
    for token in (None, tokens_for("host-1")):
        hidden = api.call("GET", f"/v1/rooms/{rehearsal}/feed", token=token)
        assert hidden.status == 404 and hidden.json()["code"] == "room_not_found"

"""Issue 16 (viewer page in poll mode): a client that joins a room whose crowd danmaku are polled
starts from `feed_seq` of GET /v1/rooms/{room_id}/realtime, the room's latest feed page, so it
reads only pages written after it joined, not the ten minutes of pages the feed keeps."""
from __future__ import annotations

import pytest

from tests.polling import poll

pytestmark = pytest.mark.integration


def _pages_after(api, room, seq):
    body = api.call("GET", f"/v1/rooms/{room}/feed?seq={seq}").json()
    return [(p["seq"], [i["text"] for i in p["items"]]) for p in body["pages"]]


def test_a_late_joiner_polls_from_the_latest_page(api, tokens_for, room):
    viewer = tokens_for("viewer-1")
    assert api.call("GET", f"/v1/rooms/{room}/realtime", token=viewer).json()["feed_seq"] == 0   # no page yet
    host = tokens_for("host-1")
    assert api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host, json_body={"delivery": "poll"}).status == 200
    for n in range(3):
        sent = api.call("POST", f"/v1/rooms/{room}/danmaku", token=api.login(f"early-{n}"), json_body={"text": f"早{n}"})
        assert sent.status == 201, sent.body
    early = poll(lambda: (lambda p: p if sum(len(t) for _, t in p) == 3 else None)(_pages_after(api, room, 0)), 15.0)
    assert early, "the early danmaku never reached the feed"

    joined = api.call("GET", f"/v1/rooms/{room}/realtime", token=viewer).json()
    assert joined["delivery"] == "poll" and joined["feed_seq"] == early[-1][0]
    assert _pages_after(api, room, joined["feed_seq"]) == []          # nothing old for the late joiner
    assert api.call("POST", f"/v1/rooms/{room}/danmaku", token=api.login("late-1"), json_body={"text": "晚到"}).status == 201
    late = poll(lambda: _pages_after(api, room, joined["feed_seq"]) or None, 15.0)
    assert late and [t for _, texts in late for t in texts] == ["晚到"] and late[0][0] == joined["feed_seq"] + 1

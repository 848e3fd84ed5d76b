"""Issue 16 (viewer page in poll mode): after an MQTT reconnect the page reads
GET /v1/rooms/{room_id}/realtime again to catch up a `delivery` message it missed while
disconnected. Every container caches a room's settings for 5 s, so a container that cached them
just before the switch would answer with the old mode; the realtime answer reads them fresh."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_realtime_names_the_mode_after_a_switch_whatever_this_container_cached(api, tokens_for, room):
    from livecommerce.interaction import feed, repository

    viewer, host = tokens_for("viewer-1"), tokens_for("host-1")
    joined = api.call("GET", f"/v1/rooms/{room}/realtime", token=viewer).json()
    assert joined["delivery"] == "push"
    stale = repository.get_room_settings(room)             # what this container keeps (5 s)

    for mode in ("poll", "push"):
        switched = api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host, json_body={"delivery": mode})
        assert switched.status == 200, switched.body
        # another container's view: it cached the settings just before the switch
        repository.settings_cache().put(room, stale)
        assert feed.room_mode(room) != mode                # the copy is stale indeed (the batcher would still say so)
        again = api.call("GET", f"/v1/rooms/{room}/realtime", token=viewer)
        assert again.status == 200, again.body
        body = again.json()
        assert body["delivery"] == mode                    # the reconnecting page learns the switch it missed
        assert body["poll_interval_ms"] >= 250 and body["feed_seq"] >= 0
        assert feed.room_mode(room) == mode                # and this container's copy is refreshed by the read
        stale = repository.get_room_settings(room)         # the poll-mode copy, stale after the switch back

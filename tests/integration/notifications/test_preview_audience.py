"""The new-room preview's audience query (analytics/sql/notice_preview_audience.sql) on DuckDB over
Parquet in the store's layout: viewers of the host's earlier sessions (one row per session) AND the
host's followers who never watched one (identity's HostFollowed events, undone by a later
HostUnfollowed), then the host's tag rule over it (notifications.postlive.preview_page)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from livecommerce.analytics import ViewerFacts, parquet_store, queries, tags_of
from livecommerce.notifications import postlive

pytestmark = pytest.mark.integration


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _event(kind: str, at: datetime, *, room_id: str | None = None, user_id: str | None = None, **detail) -> dict:
    return {"event_id": uuid.uuid4().hex, "type": kind, "source": "livecommerce", "occurred_at": _iso(at),
            "room_id": room_id, "user_id": user_id, "amount_fen": None, "order_id": None,
            "detail": json.dumps(detail)}


def _watch(room_id: str, viewer: str, start: datetime, minutes: int) -> list[dict]:
    beats = [("enter", start)] + [("heartbeat", start + timedelta(seconds=30 * (i + 1))) for i in range(minutes * 2)]
    return [{"request_id": f"req-{room_id}-{viewer}-{i}", "seq": 0, "received_at": _iso(at), "client_at": _iso(at),
             "viewer_id": viewer, "kind": kind, "product_id": None, "play_id": f"play-{viewer}",
             "device_id": f"dev-{viewer}", "source_ip": "10.0.0.1", "playback_token": True, "realtime": True,
             "room_id": room_id} for i, (kind, at) in enumerate(beats)]


def test_followers_who_never_watched_are_in_the_preview_audience(tmp_path):
    t0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    follow = lambda kind, viewer, at, host="host-1": _event(kind, at, user_id=viewer, host_id=host,  # noqa: E731
                                                            viewer_id=viewer)
    events = [
        _event("RoomStarted", t0, room_id="r-earlier", host_id="host-1"),
        _event("RoomStarted", t0, room_id="r-other-host", host_id="host-2"),
        follow("HostFollowed", "f-only", t0),                                       # follows, never watched
        follow("HostFollowed", "f-gone", t0), follow("HostUnfollowed", "f-gone", t0 + timedelta(hours=1)),
        follow("HostFollowed", "f-back", t0), follow("HostUnfollowed", "f-back", t0 + timedelta(hours=1)),
        follow("HostFollowed", "f-back", t0 + timedelta(hours=2)),                  # followed again
        follow("HostFollowed", "f-elsewhere", t0, host="host-2"),                   # another host's follower
        follow("HostFollowed", "v-follows", t0),                                    # watched and follows
    ]
    beacons = (_watch("r-earlier", "v-follows", t0, 6) + _watch("r-earlier", "v-watch", t0, 1)
               + _watch("r-other-host", "f-elsewhere", t0, 6))
    parquet_store.write_records(tmp_path, "events", events)
    parquet_store.write_records(tmp_path, "beacons", beacons)
    engine = queries.DuckDbEngine(tmp_path)

    host_rooms = ["r-new", "r-earlier"]          # rooms.room_ids_of_host("host-1"): named, as Athena needs
    rows = queries.run("notice_preview_audience", engine=engine, host_id="host-1", room_id="r-new", after="",
                       room_ids=host_rooms)
    assert [(r["user_id"], r["room_id"]) for r in rows] == [
        ("f-back", None), ("f-only", None), ("v-follows", "r-earlier"), ("v-watch", "r-earlier")]
    assert {r["user_id"]: r["watch_seconds"] for r in rows} == {"f-back": 0, "f-only": 0, "v-follows": 360,
                                                                 "v-watch": 60}
    # Keyset paging covers the followers too.
    assert [r["user_id"] for r in queries.run("notice_preview_audience", engine=engine, host_id="host-1",
                                              room_id="r-new", after="f-back", room_ids=host_rooms)] == ["f-only", "v-follows", "v-watch"]

    pick = dict(facts_type=ViewerFacts, tags_of=tags_of)
    # No tag rule: every viewer and every follower (the send step keeps the followers among them).
    assert postlive.preview_page(rows, [], **pick) == (["f-back", "f-only", "v-follows", "v-watch"], None)
    # A tag rule: only viewers who carried the tag in a session; a follower without one has no tag.
    assert postlive.preview_page(rows, ["high_intent_non_buyer"], **pick)[0] == []
    first_timers = postlive.preview_page(rows, ["first_time_viewer"], **pick)[0]
    assert first_timers == ["v-follows", "v-watch"]      # watched their first session of the host

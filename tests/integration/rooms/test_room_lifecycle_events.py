"""IVS stream events drive the room lifecycle through the stream_events function:
late, duplicated and reordered deliveries leave the room in the same state."""
from __future__ import annotations

import itertools
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.integration


def _future() -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat().replace("+00:00", "Z")


def _ivs_event(room, kind: str, stream_id: str, minute: int) -> dict:
    at = f"2026-12-01T20:{minute:02d}:00Z"
    base = {"version": "0", "id": str(uuid.uuid4()), "source": "aws.ivs", "account": "000000000000",
            "time": at, "region": "ap-northeast-1", "resources": [room["channel_arn"]]}
    if kind == "Recording End":
        return {**base, "detail-type": "IVS Recording State Change",
                "detail": {"channel_name": room["channel_name"], "stream_id": stream_id,
                           "recording_status": "Recording End", "recording_status_reason": "",
                           "recording_s3_bucket_name": "b", "recording_s3_key_prefix": "p",
                           "recording_duration_ms": 1000, "recording_session_id": "rs"}}
    return {**base, "detail-type": "IVS Stream State Change",
            "detail": {"event_name": kind, "channel_name": room["channel_name"], "stream_id": stream_id}}


@pytest.fixture
def live_room(api, tokens_for, ivs_env):
    created = api.call("POST", "/v1/rooms", token=tokens_for("host-1"),
                       json_body={"title": "Live", "scheduled_start": _future()})
    assert created.status == 201, created.body
    from livecommerce.rooms import repository

    item = repository.get_room(created.json()["id"], consistent=True)
    return {"id": item.room_id, "channel_arn": item.channel_arn, "channel_name": item.channel_name}


def _deliver(event):
    from local.lambda_runtime import invoke

    return invoke("stream_events", event)


def _status(api, room):
    return api.call("GET", f"/v1/rooms/{room['id']}").json()["room"]["status"]


def _room_events(session):
    """Domain events the rooms context put on the bus, via the event log."""
    from livecommerce.analytics.event_log import events_for
    from local.event_delivery import drain
    from local.resources import LocalNames

    drain(session, LocalNames())
    return events_for


def test_start_drop_reconnect_and_recording_end(api, live_room, seeded):
    assert _deliver(_ivs_event(live_room, "Stream Start", "st-1", 0))["status"] == "live"
    assert _deliver(_ivs_event(live_room, "Stream End", "st-1", 5))["status"] == "interrupted"
    assert _deliver(_ivs_event(live_room, "Stream Start", "st-2", 6))["status"] == "live"
    assert _deliver(_ivs_event(live_room, "Stream End", "st-2", 30))["status"] == "interrupted"
    assert _deliver(_ivs_event(live_room, "Recording End", "st-2", 31))["status"] == "ended"
    assert _status(api, live_room) == "ended"
    events_for = _room_events(seeded)
    names = [e["detail_type"] for e in events_for(f"ROOM#{live_room['id']}")]
    assert names.count("RoomStarted") == 1
    assert names.count("StreamInterrupted") == 2 and names.count("StreamResumed") == 1
    assert names.count("RoomEnded") == 1


SCRIPT = [("Stream Start", "st-1", 0), ("Stream End", "st-1", 5), ("Stream Start", "st-2", 7)]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(SCRIPT)))))
def test_every_order_of_the_same_events_ends_in_the_same_state(api, live_room, order):
    for index in order:
        _deliver(_ivs_event(live_room, *SCRIPT[index]))
    assert _status(api, live_room) == "live"


def test_duplicates_and_shuffles_with_a_final_end(api, live_room, seeded):
    script = SCRIPT + [("Stream End", "st-2", 20), ("Recording End", "st-2", 22)]
    events = [_ivs_event(live_room, *s) for s in script]
    deliveries = events + events[:3]  # EventBridge may deliver twice
    random.Random(7).shuffle(deliveries)
    for event in deliveries:
        _deliver(event)
    assert _status(api, live_room) == "ended"
    events_for = _room_events(seeded)
    names = [e["detail_type"] for e in events_for(f"ROOM#{live_room['id']}")]
    assert names.count("RoomEnded") == 1 and names.count("RoomStarted") == 1


def test_unknown_and_foreign_events_are_safe_no_ops(api, live_room):
    stranger = dict(live_room, channel_name="lc-local-01JZZZZZZZZZZZZZZZZZZZZZZZ")
    assert _deliver(_ivs_event(stranger, "Stream Start", "st-x", 1))["status"] is None
    foreign = dict(live_room, channel_arn="arn:aws:ivs:ap-northeast-1:000000000000:channel/other")
    assert _deliver(_ivs_event(foreign, "Stream Start", "st-y", 1))["status"] is None
    odd = _ivs_event(live_room, "Session Created", "st-z", 1)
    assert _deliver(odd)["status"] is None
    assert _deliver({"id": "x", "detail-type": "IVS Stream State Change", "detail": {}})["status"] is None
    assert _status(api, live_room) == "scheduled"


def test_host_end_is_terminal_for_late_stream_events(api, live_room, tokens_for):
    token = tokens_for("host-1")
    _deliver(_ivs_event(live_room, "Stream Start", "st-1", 0))
    ended = api.call("POST", f"/v1/rooms/{live_room['id']}/end", token=token)
    assert ended.status == 200 and ended.json()["status"] == "ended"
    _deliver(_ivs_event(live_room, "Stream Start", "st-9", 50))
    assert _status(api, live_room) == "ended"
    again = api.call("POST", f"/v1/rooms/{live_room['id']}/end", token=token)
    assert again.status == 200
    assert api.call("POST", f"/v1/rooms/{live_room['id']}/start", token=token).status == 409
    assert api.call("POST", f"/v1/rooms/{live_room['id']}/start", token=tokens_for("viewer-1")).status == 403

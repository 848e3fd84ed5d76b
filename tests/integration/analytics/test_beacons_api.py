"""POST /v1/rooms/{room_id}/events through the local gateway: the beacon authorizer (the real
handler, cached), the request validator with the model's JSON Schema, the same VTL templates as
API Gateway (rendered by a Velocity engine) and the Firehose stand-in writing Parquet that
`queries.run` reads. No analytics Lambda runs per beacon."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from livecommerce.analytics import queries
from local import beacon_integration, gateway
from local.firehose import LocalFirehose

pytestmark = pytest.mark.integration
START = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()


@pytest.fixture
def store(tmp_path):
    firehose = LocalFirehose(tmp_path, buffer_records=100_000)
    beacon_integration.use_firehose(firehose)
    queries.use_engine(queries.DuckDbEngine(tmp_path))
    yield firehose
    beacon_integration.use_firehose(None)
    queries.use_engine(None)


def _batch(*kinds: str, at: int | None = None, **extra) -> dict:
    now = at if at is not None else int(time.time() * 1000)
    return {"events": [{"kind": k, "client_ms": now - 1000, "play_id": "play-1", "device_id": "dev-1",
                        **({"product_id": "prod-1"} if k == "product_click" else {})} for k in kinds], **extra}


def test_viewer_posts_beacons_bad_batches_count_nothing(api, tokens_for, ivs_env, store, monkeypatch):
    host, viewer = tokens_for("host-1"), tokens_for("viewer-1")
    room = api.call("POST", "/v1/rooms", token=host, json_body={"title": "埋点", "scheduled_start": START}).json()["id"]
    other = api.call("POST", "/v1/rooms", token=host, json_body={"title": "另一个", "scheduled_start": START}).json()["id"]
    hidden = api.call("POST", "/v1/rooms", token=host,
                      json_body={"title": "彩排", "scheduled_start": START, "visibility": "test"}).json()["id"]
    calls = []
    real_invoke = gateway.invoke
    monkeypatch.setattr(gateway, "invoke", lambda name, *a, **k: (calls.append(name), real_invoke(name, *a, **k))[1])

    def post(room_id, body, *, token=viewer, playback=None, raw=None, content_type="application/json"):
        headers = {"X-Playback-Token": playback or f"none:{room_id}", "Content-Type": content_type}
        return api.call("POST", f"/v1/rooms/{room_id}/events", token=token, headers=headers,
                        raw_body=raw if raw is not None else json.dumps(body))

    good = post(room, _batch("enter", "heartbeat", "product_click", realtime=True))
    assert (good.status, good.json()) == (202, {"accepted": 3}), good.body
    assert post(room, _batch("heartbeat", "leave")).status == 202
    assert calls.count("beacon_authorizer") == 1          # cached per viewer and room: not per batch
    assert "analytics" not in calls                       # and no function behind the route

    refused = {
        "malformed JSON": (post(room, None, raw="{not json"), 422, "validation_failed"),
        "another room's id in the body": (post(room, {**_batch("enter"), "room_id": other}), 422,
                                          "validation_failed"),
        "unknown kind": (post(room, _batch("teleport")), 422, "validation_failed"),
        "client viewer id": (post(room, {"events": [{**_batch("enter")["events"][0], "viewer_id": "v9"}]}), 422,
                             "validation_failed"),
        "21 beacons": (post(room, _batch(*["share_click"] * 21)), 422, "validation_failed"),
        "float time": (post(room, {"events": [{**_batch("enter")["events"][0], "client_ms": 1.7e12 + 0.5}]}), 422,
                       "validation_failed"),
        "future time": (post(room, _batch("enter", at=int(time.time() * 1000) + 5 * 60_000)), 422,
                        "beacon_rejected"),
        "ancient time": (post(room, _batch("enter", at=int(time.time() * 1000) - 3600_000)), 422,
                         "beacon_rejected"),
        "heartbeat flood": (post(room, _batch(*["heartbeat"] * 5)), 422, "beacon_rejected"),
        "not JSON media type": (post(room, _batch("enter"), content_type="text/plain"), 415,
                                "unsupported_media_type"),
        "no login": (post(room, _batch("enter"), token=None), 401, "unauthorized"),
        "forged login": (post(room, _batch("enter"), token=viewer[:-4] + "AAAA"), 401, "unauthorized"),
        "header naming another room": (post(room, _batch("enter"), playback=f"none:{other}"), 403, "forbidden"),
    }
    for name, (response, status, code) in refused.items():
        assert response.status == status, (name, response.status, response.body)
        assert response.headers["Content-Type"] == "application/problem+json", name
        assert response.json()["code"] == code, (name, response.body)

    # A test room the viewer may not see is answered exactly as a room that does not exist.
    test_room, no_room = post(hidden, _batch("enter")), post("01ARZ3NDEKTSV4RRFFQ69G5FAV", _batch("enter"))
    assert test_room.status == no_room.status == 404
    strip = lambda r: {k: v for k, v in r.json().items() if k != "correlation_id"}  # noqa: E731
    assert strip(test_room) == strip(no_room) and test_room.json()["code"] == "room_not_found"
    # ... while its host rehearses with beacons counted
    assert post(hidden, _batch("enter"), token=host).status == 202

    assert store.flush() == 6
    counted = queries.DuckDbEngine(store.root)._connection().execute(
        "SELECT viewer_id, kind, product_id, realtime, playback_token, source_ip, received_at >= client_at "
        "FROM beacons WHERE room_id = ? ORDER BY request_id, seq", [room]).fetchall()
    assert sorted(c[1] for c in counted) == ["enter", "heartbeat", "heartbeat", "leave", "product_click"]
    assert {c[0] for c in counted} == {"viewer-1"} and {c[5] for c in counted} == {"127.0.0.1"}
    assert {c[2] for c in counted if c[1] == "product_click"} == {"prod-1"}
    assert not any(c[4] for c in counted)                  # "none:<room>": no playback token
    summary = queries.run("traffic_summary", room_id=room)
    assert sum(r["n"] for r in summary if r["measure"] == "beacons") == 5

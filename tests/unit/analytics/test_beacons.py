"""Beacon rules, the JSON Schema API Gateway validates with, and the local write path
(integration -> local Firehose stand-in -> Parquet -> DuckDB) with bad input counted nowhere."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.analytics import queries
from livecommerce.analytics.beacons import (MAX_FUTURE_SKEW_MS, MAX_HEARTBEATS_PER_BATCH, MAX_PAST_SKEW_MS,
                                            BatchRejected, BeaconBatch, Stamp, records, request_schema)
from livecommerce.analytics.event_rows import row
from livecommerce.analytics.store_schema import BEACON_KINDS, BEACONS
from local.beacon_integration import post_beacons
from local.firehose import LocalFirehose

NOW = 1_777_636_800_000  # 2026-05-01T12:00:00Z


def stamp(**kw):
    return Stamp(**{"request_id": "req-1", "received_ms": NOW, "room_id": "r1", "viewer_id": "v1",
                    "source_ip": "10.1.1.1", "playback_token": True, **kw})


def batch(*events, realtime=True):
    return BeaconBatch.model_validate({"events": list(events), "realtime": realtime})


def ev(kind="heartbeat", at=NOW, **kw):
    return {"kind": kind, "client_ms": at, "play_id": "p1", **kw}


def test_server_stamps_time_viewer_and_address_never_the_body():
    with pytest.raises(Exception):
        BeaconBatch.model_validate({"events": [ev(viewer_id="someone-else")]})
    rows = records(batch(ev("enter", NOW - 5000), ev("product_click", NOW, product_id="sku1")), stamp())
    assert [(r["seq"], r["kind"], r["viewer_id"], r["received_at"], r["client_at"], r["source_ip"], r["room_id"])
            for r in rows] == [(0, "enter", "v1", NOW, NOW - 5000, "10.1.1.1", "r1"),
                               (1, "product_click", "v1", NOW, NOW, "10.1.1.1", "r1")]
    assert rows[1]["product_id"] == "sku1" and rows[0]["product_id"] is None


@given(st.integers(min_value=-2 * MAX_PAST_SKEW_MS, max_value=2 * MAX_PAST_SKEW_MS))
def test_client_time_is_bounded(offset):
    inside = -MAX_PAST_SKEW_MS <= offset <= MAX_FUTURE_SKEW_MS
    try:
        out = records(batch(ev(at=NOW + offset)), stamp())
    except BatchRejected:
        assert not inside
    else:
        assert inside and abs(out[0]["client_at"] - NOW) <= MAX_PAST_SKEW_MS


def test_heartbeat_flood_in_one_batch_is_refused_whole():
    records(batch(*[ev() for _ in range(MAX_HEARTBEATS_PER_BATCH)]), stamp())
    with pytest.raises(BatchRejected):
        records(batch(*[ev() for _ in range(MAX_HEARTBEATS_PER_BATCH + 1)]), stamp())


def test_request_schema_is_the_model_in_draft4():
    schema = request_schema()
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    item = schema["properties"]["events"]["items"]
    assert item["properties"]["kind"]["enum"] == list(BEACON_KINDS)
    assert item["additionalProperties"] is False and schema["additionalProperties"] is False
    assert schema["properties"]["events"]["maxItems"] == 20
    assert set(item["required"]) == {"kind", "client_ms", "play_id"}


def test_event_row_takes_total_then_amount_and_keeps_detail():
    r = row({"id": "eb-1", "detail-type": "OrderPaid", "source": "livecommerce", "time": "2026-05-01T12:00:00Z",
             "detail": {"event_id": "ev-1", "room_id": "r1", "user_id": "u1", "order_id": "o1", "total": 1999,
                        "amount": 5}})
    assert (r["event_id"], r["amount_fen"], r["room_id"], r["order_id"]) == ("ev-1", 1999, "r1", "o1")
    assert json.loads(r["detail"])["total"] == 1999
    assert row({"id": "eb-2", "detail-type": "RefundSucceeded", "detail": {"amount": 300}})["amount_fen"] == 300
    assert row({"id": "eb-3", "detail-type": "HostFollowed", "detail": {"amount": True}})["amount_fen"] is None


def test_local_write_path_counts_good_batches_and_nothing_of_bad_ones(tmp_path):
    firehose = LocalFirehose(tmp_path, buffer_records=10_000)
    good = json.dumps({"events": [ev("enter", NOW - 1000), ev("heartbeat")], "realtime": True}).encode()
    assert post_beacons(firehose, body=good, stamp=stamp()) == (202, {"accepted": 2})
    bad = {
        "malformed": b"{not json",
        "oversized": json.dumps({"events": [ev(play_id="x" * 60)] * 400}).encode(),
        "too_many": json.dumps({"events": [ev("enter")] * 21}).encode(),
        "unknown_kind": json.dumps({"events": [ev("purchase")]}).encode(),
        "future": json.dumps({"events": [ev(at=NOW + MAX_FUTURE_SKEW_MS + 1)]}).encode(),
        "ancient": json.dumps({"events": [ev("enter"), ev(at=NOW - MAX_PAST_SKEW_MS - 1)]}).encode(),
        "client_room_or_viewer": json.dumps({"events": [ev(room_id="r2")]}).encode(),
        "float_time": json.dumps({"events": [ev(at=NOW + 0.5)]}).encode(),
    }
    answers = {name: post_beacons(firehose, body=body, stamp=stamp()) for name, body in bad.items()}
    assert {name: (status, body["code"]) for name, (status, body) in answers.items()} == {
        "malformed": (400, "invalid_json"), "oversized": (413, "payload_too_large"),
        "too_many": (422, "validation_error"), "unknown_kind": (422, "validation_error"),
        "future": (422, "beacon_rejected"), "ancient": (422, "beacon_rejected"),
        "client_room_or_viewer": (422, "validation_error"), "float_time": (422, "validation_error")}
    for status, body in answers.values():
        assert body["status"] == status and body["detail"]
    assert firehose.flush() == 2
    files = list((tmp_path / "beacons").rglob("*.parquet"))
    assert [f.relative_to(tmp_path).parts[1:3] for f in files] == [("dt=2026-05-01", "room_id=r1")]
    rows = queries.DuckDbEngine(tmp_path).execute(
        "SELECT kind, viewer_id, source_ip, playback_token, realtime, room_id FROM beacons ORDER BY seq", [])
    assert rows == [{"kind": "enter", "viewer_id": "v1", "source_ip": "10.1.1.1", "playback_token": True,
                     "realtime": True, "room_id": "r1"},
                    {"kind": "heartbeat", "viewer_id": "v1", "source_ip": "10.1.1.1", "playback_token": True,
                     "realtime": True, "room_id": "r1"}]
    assert set(rows[0]) - {"room_id"} <= set(BEACONS.column_names)

"""Beacon rules, the JSON Schema API Gateway validates with, and the local write path
(integration -> local Firehose stand-in -> Parquet -> DuckDB) with bad input counted nowhere."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecommerce.analytics import queries
from livecommerce.analytics.beacons import (MAX_FUTURE_SKEW_MS, MAX_HEARTBEATS_PER_BATCH, MAX_PAST_SKEW_MS,
                                            BatchRejected, BeaconBatch, Stamp, records, request_schema)
from livecommerce.analytics.event_rows import row
from livecommerce.analytics.store_schema import BEACON_KINDS, BEACONS
from livecommerce.analytics.spec import SPEC as ANALYTICS
from local import beacon_integration
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


INTEGRATION = next(r.integration for r in ANALYTICS.routes if r.integration is not None)
AUTHORIZED = {"viewer_id": "v1", "room_id": "r1", "visible": "true", "playback_token": "true"}


@pytest.fixture
def firehose(tmp_path):
    stand_in = LocalFirehose(tmp_path, buffer_records=10_000)
    beacon_integration.use_firehose(stand_in)
    yield stand_in
    beacon_integration.use_firehose(None)


def post(body: bytes, *, request_id="req-1", authorizer=AUTHORIZED):
    """What the local gateway does after the authorizer: API Gateway's request validator (the
    route's JSON Schema), then the mapping templates and the Firehose stand-in."""
    if not beacon_integration.valid_body(INTEGRATION, body):
        return 422, {"code": "validation_failed"}      # the gateway's BAD_REQUEST_BODY answer
    answer = beacon_integration.serve(INTEGRATION, body=body, params={"room_id": "r1"}, request_id=request_id,
                                      request_time_ms=NOW, source_ip="10.1.1.1", authorizer=authorizer)
    return answer.status, json.loads(answer.body)


def test_local_write_path_counts_good_batches_and_nothing_of_bad_ones(firehose, tmp_path):
    good = json.dumps({"events": [ev("enter", NOW - 1000), ev("heartbeat")], "realtime": True}).encode()
    assert post(good) == (202, {"accepted": 2})
    bad = {
        "malformed": b"{not json",
        "oversized": json.dumps({"events": [ev(play_id="x" * 60)] * 400}).encode(),
        "too_many": json.dumps({"events": [ev("enter")] * 21}).encode(),
        "unknown_kind": json.dumps({"events": [ev("purchase")]}).encode(),
        "future": json.dumps({"events": [ev(at=NOW + MAX_FUTURE_SKEW_MS + 1)]}).encode(),
        "ancient": json.dumps({"events": [ev("enter"), ev(at=NOW - MAX_PAST_SKEW_MS - 1)]}).encode(),
        "heartbeat_flood": json.dumps({"events": [ev()] * (MAX_HEARTBEATS_PER_BATCH + 1)}).encode(),
        "client_room_or_viewer": json.dumps({"events": [ev(room_id="r2")]}).encode(),
        "float_time": json.dumps({"events": [ev(at=NOW + 0.5)]}).encode(),
    }
    answers = {name: post(body, request_id=f"req-{name}") for name, body in bad.items()}
    assert {name: (status, body["code"]) for name, (status, body) in answers.items()} == {
        "malformed": (422, "validation_failed"), "oversized": (422, "validation_failed"),
        "too_many": (422, "validation_failed"), "unknown_kind": (422, "validation_failed"),
        "future": (422, "beacon_rejected"), "ancient": (422, "beacon_rejected"),
        "heartbeat_flood": (422, "beacon_rejected"),
        "client_room_or_viewer": (422, "validation_failed"), "float_time": (422, "validation_failed")}
    for name in ("future", "ancient", "heartbeat_flood"):
        status, body = answers[name]
        assert body["status"] == status and body["detail"]
    # a room the authorizer found hidden: answered as no room, nothing written
    hidden = post(good, request_id="req-hidden", authorizer={**AUTHORIZED, "visible": "false"})
    assert hidden[0] == 404 and hidden[1]["code"] == "room_not_found"
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


_beacon = st.fixed_dictionaries(
    {"kind": st.sampled_from(BEACON_KINDS), "offset": st.integers(-MAX_PAST_SKEW_MS - 60_000, MAX_FUTURE_SKEW_MS + 60_000),
     "play_id": st.from_regex(r"[A-Za-z0-9_.:-]{1,12}", fullmatch=True)},
    optional={"product_id": st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True),
              "device_id": st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True),
              "position_s": st.integers(0, 7200)})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(_beacon, min_size=1, max_size=20), realtime=st.booleans())
def test_the_mapping_template_makes_the_rows_records_makes(firehose, events, realtime):
    """The VTL API Gateway renders (here through the local Velocity engine) and beacons.records()
    agree: the same batches refused, the same rows for the others."""
    body = {"events": [{k: v for k, v in e.items() if k != "offset"} | {"client_ms": NOW + e["offset"]}
                       for e in events], "realtime": realtime}
    try:
        expected = records(BeaconBatch.model_validate(body), stamp(request_id="req-h"))
    except BatchRejected:
        expected = None
    status, _ = post(json.dumps(body).encode(), request_id="req-h")
    buffered = firehose._buffers["beacons"][:]
    firehose._buffers["beacons"].clear()
    if expected is None:
        assert status == 422 and buffered == []
        return
    assert status == 202
    columns = set(BEACONS.column_names) | {"room_id"}
    assert [{k: r.get(k) for k in columns} for r in buffered] == [{k: r.get(k) for k in columns} for r in expected]

"""The events stream's transformation (event_rows.firehose_transform: the events_transform Lambda
on AWS, the stand-in's step locally) and the PutRecordBatch writer (store_writer, on botocore's
Stubber)."""
from __future__ import annotations

import base64
import json

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given, settings, strategies as st

from livecommerce.analytics import LikesAdded, queries, store_writer
from livecommerce.analytics.event_rows import firehose_transform
from local.firehose import LocalFirehose

ROOM = st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True)
JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                    max_leaves=8)


def b64(value) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else json.dumps(value).encode()).decode()


def envelope(detail, *, time="2026-05-01T12:00:00Z", detail_type="OrderPaid"):
    return {"version": "0", "id": "eb-1", "detail-type": detail_type, "source": "livecommerce", "time": time,
            "detail": detail}


@settings(max_examples=60, deadline=None)
@given(details=st.lists(st.dictionaries(st.text(max_size=8), JSON, max_size=5), min_size=1, max_size=6),
       room=st.none() | ROOM)
def test_every_record_comes_back_once_with_its_detail_as_json_text(details, room):
    records = []
    for i, detail in enumerate(details):
        detail = {**detail, "event_id": f"ev-{i}"}
        detail.pop("room_id", None)
        if room:
            detail["room_id"] = room
        records.append({"recordId": f"r{i}", "data": b64(envelope(detail))})
    out = firehose_transform({"records": records})["records"]
    assert [r["recordId"] for r in out] == [r["recordId"] for r in records]
    for i, (record, got) in enumerate(zip(records, out)):
        assert got["result"] == "Ok"
        row = json.loads(base64.b64decode(got["data"]))
        sent = json.loads(base64.b64decode(record["data"]))["detail"]
        assert json.loads(row["detail"]) == sent and row["event_id"] == f"ev-{i}"
        assert row["occurred_at"] == 1777636800000
        assert got["metadata"]["partitionKeys"] == {"dt": "2026-05-01", "room_id": room or "_none"}


def test_rows_of_a_real_event_and_refused_records():
    # (real OrderCreated events through the whole path: tests/integration/analytics/test_events_store.py)
    detail = {"order_id": "o1", "user_id": "u1", "room_id": "r1", "total": 19800, "amount": 5, "event_id": "ev-9"}
    good = envelope(detail, detail_type="OrderCreated", time="2026-05-01T23:59:59.500Z")
    bad = {"not_base64": "%%%", "not_json": b64(b"{oops"), "array": b64([1]),
           "no_detail": b64({"id": "x", "detail-type": "T", "time": "2026-05-01T00:00:00Z"}),
           "bad_room": b64(envelope({"room_id": "a/b"})), "no_time": b64(envelope({"x": 1}, time=None))}
    out = firehose_transform({"records": [{"recordId": "good", "data": b64(good)},
                                          *({"recordId": k, "data": v} for k, v in bad.items())]})["records"]
    results = {r["recordId"]: r["result"] for r in out}
    assert results == {"good": "Ok", **{k: "ProcessingFailed" for k in bad}}
    row = json.loads(base64.b64decode(out[0]["data"]))
    assert (row["type"], row["order_id"], row["user_id"], row["amount_fen"]) == ("OrderCreated", "o1", "u1", 19800)
    assert row["occurred_at"] == 1777679999500


def test_writer_splits_retries_only_refused_records_and_gives_up_loudly(monkeypatch):
    client = boto3.client("firehose", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    monkeypatch.setattr(store_writer.aws, "client", lambda service: client)
    monkeypatch.setattr(store_writer, "_sleep", lambda s: None)
    monkeypatch.setenv("ANALYTICS_EVENTS_STREAM", "lc-test-analytics-events")
    facts = [LikesAdded(fact_id=f"f{i}", room_id="r1", user_id=f"u{i}", at_ms=1_777_636_800_000, count=1)
             for i in range(502)]
    datas = [(json.dumps(f.envelope(), ensure_ascii=False, separators=(",", ":")) + "\n").encode() for f in facts]
    ok = lambda n: {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "x"}] * n}  # noqa: E731
    with Stubber(client) as stub:
        stub.add_response("put_record_batch", ok(500), {"DeliveryStreamName": "lc-test-analytics-events",
                                                        "Records": [{"Data": d} for d in datas[:500]]})
        # the second call: one of two refused (throttled); only that one is sent again
        stub.add_response("put_record_batch", {"FailedPutCount": 1, "RequestResponses": [
            {"RecordId": "a"}, {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}]},
            {"DeliveryStreamName": "lc-test-analytics-events", "Records": [{"Data": d} for d in datas[500:]]})
        stub.add_response("put_record_batch", ok(1), {"DeliveryStreamName": "lc-test-analytics-events",
                                                      "Records": [{"Data": datas[501]}]})
        assert store_writer.put_envelopes(f.envelope() for f in facts) == 3
        stub.assert_no_pending_responses()
    refused = {"FailedPutCount": 1, "RequestResponses": [{"ErrorCode": "ServiceUnavailableException",
                                                          "ErrorMessage": "slow down"}]}
    with Stubber(client) as stub:
        for _ in range(store_writer.ATTEMPTS):
            stub.add_response("put_record_batch", refused)
        with pytest.raises(store_writer.StoreWriteFailed):
            store_writer.put_envelopes([facts[0].envelope()])
    assert store_writer.put_envelopes([]) == 0


def test_the_stand_in_transforms_the_events_stream_and_duckdb_reads_detail(tmp_path):
    firehose = LocalFirehose(tmp_path, buffer_records=100)
    like = LikesAdded(fact_id="likes-1", room_id="r1", user_id="u1", at_ms=1_777_636_800_000, count=7).envelope()
    request = {"DeliveryStreamName": "lc-analytics-events",
               "Records": [{"Data": b64(like)}, {"Data": b64(b"[not an event]")}]}
    assert firehose.put_record_batch_request(request, prefix="lc")[0] == 200
    assert firehose.flush() == 1 and len(firehose.failed) == 1
    files = list((tmp_path / "events").rglob("*.parquet"))
    assert [f.relative_to(tmp_path).parts[1:3] for f in files] == [("dt=2026-05-01", "room_id=r1")]
    rows = queries.DuckDbEngine(tmp_path).execute(
        "SELECT type, source, user_id, CAST(json_extract_scalar(detail, '$.count') AS BIGINT) AS n FROM events", [])
    assert rows == [{"type": "LikesAdded", "source": "livecommerce.interaction", "user_id": "u1", "n": 7}]

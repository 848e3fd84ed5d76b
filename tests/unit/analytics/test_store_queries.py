"""The analytics store contract and the query port: one SQL text, DuckDB and Athena.

DuckDB runs the SQL files for real over Parquet written by parquet_store (the local
Firehose's writer). Athena is exercised through botocore's Stubber against the Athena service
model: the same SQL text, its parameters as ExecutionParameters, polling and paged results.
"""
from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber

from livecommerce.analytics import queries
from livecommerce.analytics.parquet_store import write_records
from livecommerce.analytics.store_schema import BEACONS, EVENTS, TABLES

T0 = int(datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc).timestamp() * 1000)


def beacon(viewer: str, kind: str, at_ms: int, room: str = "r1", **extra):
    row = {"request_id": f"req-{viewer}-{at_ms}-{kind}", "seq": 0, "received_at": at_ms, "client_at": at_ms,
           "viewer_id": viewer, "kind": kind, "room_id": room, "play_id": f"play-{viewer}",
           "device_id": f"dev-{viewer}", "source_ip": f"10.0.0.{abs(hash(viewer)) % 250}",
           "playback_token": True, "realtime": True}
    row.update(extra)
    return row


def test_schema_is_single_sourced():
    for table in TABLES:
        glue = [c["name"] for c in table.glue_columns()]
        arrow = table.pyarrow_schema().names
        assert glue == arrow == list(table.column_names)
        assert "room_id" not in glue and "dt" not in glue  # partition keys, in the path only
    assert [c["type"] for c in BEACONS.glue_columns()][:3] == ["string", "int", "timestamp"]
    assert BEACONS.object_prefix("2026-05-01", "r1") == "beacons/dt=2026-05-01/room_id=r1/"
    assert EVENTS.object_prefix("2026-05-01", None) == "events/dt=2026-05-01/room_id=_none/"
    with pytest.raises(ValueError):
        BEACONS.object_prefix("2026-05-01", "../etc")


def test_bind_names_and_refuses_mismatch():
    sql, names = queries.bind("SELECT ':x' AS a, \"b:y\" -- :z\n FROM t WHERE a = :room AND b = :day "
                              "AND c = :room /* :w */", {"room": "r", "day": "d"})
    assert names == ["room", "day", "room"]
    assert sql.count("?") == 3 and "':x'" in sql and ":z" in sql and ":w" in sql
    with pytest.raises(ValueError):
        queries.bind("SELECT :a", {})
    with pytest.raises(ValueError):
        queries.bind("SELECT 1", {"a": 1})


def test_athena_literals_cannot_escape_the_string():
    assert queries.athena_literal("r1' OR '1'='1") == "'r1'' OR ''1''=''1'"
    assert queries.athena_literal(5) == "5"
    assert queries.athena_literal(True) == "TRUE"
    assert queries.athena_literal(datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)) == \
        "TIMESTAMP '2026-05-01 12:00:00.000'"
    with pytest.raises(TypeError):
        queries.athena_literal(object())


def test_sample_query_on_duckdb_over_parquet_with_fake_traffic_excluded(tmp_path):
    rows = [beacon("v1", "enter", T0), beacon("v1", "heartbeat", T0 + 30_000), beacon("v1", "heartbeat", T0 + 61_000),
            beacon("v2", "enter", T0 + 5_000),
            # no playback token nor realtime connection: excluded
            beacon("bot1", "enter", T0, playback_token=False, realtime=False),
            # 10 heartbeats in one minute: excluded
            *[beacon("bot2", "heartbeat", T0 + i * 1000) for i in range(10)],
            # one device behind five accounts: all five excluded
            *[beacon(f"farm{i}", "enter", T0, device_id="dev-farm") for i in range(5)],
            # another room and another day: not in the answer
            beacon("v3", "enter", T0, room="r2"), beacon("v1", "enter", T0 + 86_400_000)]
    files = write_records(tmp_path, "beacons", rows)
    assert {f.relative_to(tmp_path).parts[:3] for f in files} == {
        ("beacons", "dt=2026-05-01", "room_id=r1"), ("beacons", "dt=2026-05-01", "room_id=r2"),
        ("beacons", "dt=2026-05-02", "room_id=r1")}
    write_records(tmp_path, "events", [
        {"event_id": "e1", "type": "LikesAdded", "source": "livecommerce", "occurred_at": "2026-05-01T12:00:10Z",
         "room_id": "r1", "user_id": "v1", "detail": "{}"},
        {"event_id": "e2", "type": "LikesAdded", "source": "livecommerce", "occurred_at": "2026-05-01T12:00:11Z",
         "room_id": "r1", "user_id": "never", "detail": "{}"},
        {"event_id": "e3", "type": "OrderPaid", "source": "livecommerce", "occurred_at": "2026-05-01T12:00:12Z",
         "room_id": "r1", "user_id": "never", "amount_fen": 1999, "detail": "{\"total\": 1999}"}])
    engine = queries.DuckDbEngine(tmp_path)

    got = queries.run("sample_room_counts", engine, room_id="r1", day="2026-05-01")
    assert [(r["kind"], r["minute"].strftime("%H:%M"), r["beacons"], r["viewers"]) for r in got] == [
        ("enter", "12:00", 2, 2), ("heartbeat", "12:00", 1, 1), ("heartbeat", "12:01", 1, 1)]

    summary = {(r["measure"], r["reason"]): r["n"] for r in queries.run("traffic_summary", engine, room_id="r1")}
    assert summary == {
        ("viewers", None): 2, ("viewers", "no_playback_token"): 1, ("viewers", "heartbeat_rate"): 1,
        ("viewers", "shared_device"): 5,
        ("beacons", None): 5, ("beacons", "no_playback_token"): 1, ("beacons", "heartbeat_rate"): 10,
        ("beacons", "shared_device"): 5,
        ("interactions", None): 1, ("interactions", "never_watched"): 1}
    # A value that tries to end the string literal is a value, not SQL.
    assert queries.run("sample_room_counts", engine, room_id="r1' OR '1'='1", day="2026-05-01") == []


def test_views_run_with_no_files_yet(tmp_path):
    engine = queries.DuckDbEngine(tmp_path)
    assert queries.run("traffic_summary", engine, room_id="r1") == []


def test_sample_query_on_athena_same_text_parameters_polling_and_pages():
    client = boto3.client("athena", region_name="cn-north-1", aws_access_key_id="x", aws_secret_access_key="x")
    engine = queries.AthenaEngine(workgroup="lc-dev-analytics", database="lc_dev_analytics", client=client,
                                  sleep=lambda s: None)
    sql, _ = queries.bind(queries.sql_text("sample_room_counts"), {"room_id": "r1", "day": "2026-05-01"})
    columns = [{"Name": "kind", "Type": "varchar"}, {"Name": "minute", "Type": "timestamp"},
               {"Name": "beacons", "Type": "bigint"}, {"Name": "viewers", "Type": "bigint"}]

    def cells(*values):
        return {"Data": [{"VarCharValue": v} for v in values]}

    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, {
            "QueryString": sql, "WorkGroup": "lc-dev-analytics",
            "QueryExecutionContext": {"Database": "lc_dev_analytics"},
            "ExecutionParameters": ["'r1'", "'2026-05-01'"]})
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}},
                          {"QueryExecutionId": "q-1"})
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
                          {"QueryExecutionId": "q-1"})
        stub.add_response("get_query_results", {
            "ResultSet": {"ResultSetMetadata": {"ColumnInfo": columns},
                          "Rows": [cells("kind", "minute", "beacons", "viewers"),
                                   cells("enter", "2026-05-01 12:00:00.000", "2", "2")]},
            "NextToken": "p2"}, {"QueryExecutionId": "q-1", "MaxResults": 1000})
        stub.add_response("get_query_results", {
            "ResultSet": {"ResultSetMetadata": {"ColumnInfo": columns},
                          "Rows": [cells("heartbeat", "2026-05-01 12:00:00.000", "1", "1")]}},
            {"QueryExecutionId": "q-1", "MaxResults": 1000, "NextToken": "p2"})
        rows = queries.run("sample_room_counts", engine, room_id="r1", day="2026-05-01")
        stub.assert_no_pending_responses()
    assert rows == [{"kind": "enter", "minute": "2026-05-01 12:00:00.000", "beacons": 2, "viewers": 2},
                    {"kind": "heartbeat", "minute": "2026-05-01 12:00:00.000", "beacons": 1, "viewers": 1}]


def test_athena_failure_is_a_query_error():
    client = boto3.client("athena", region_name="cn-north-1", aws_access_key_id="x", aws_secret_access_key="x")
    engine = queries.AthenaEngine(workgroup="w", database="d", client=client, sleep=lambda s: None)
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-2"})
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {
            "State": "FAILED", "StateChangeReason": "SYNTAX_ERROR"}}})
        with pytest.raises(queries.QueryError, match="SYNTAX_ERROR"):
            engine.execute("SELECT 1", [])


def test_every_sql_file_binds_and_views_are_ordered():
    views = queries.view_names()
    assert views.index("viewer_verdicts") < views.index("accepted_beacons")
    assert views.index("event_verdicts") < views.index("accepted_events")
    for statement in queries.athena_view_statements():
        assert statement.startswith('CREATE OR REPLACE VIEW "')
        assert "?" not in statement  # views take no parameters

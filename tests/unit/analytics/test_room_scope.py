"""The report's room scope: verdicts computed once per report, the same SQL files on both paths.

DuckDB runs the relations as temp tables on one connection; the Athena path sends each query as
one statement with the relations prepended as CTEs. Both paths run here for real in DuckDB over
the generator's session (the CTE text is exactly what Athena receives; the Stubber test checks it
goes out as one StartQueryExecution with its parameters).
"""
from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.report_traffic import synthesize
from livecommerce.analytics import queries, reports, room_scope
from livecommerce.analytics.store_schema import BEACONS, EVENTS


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    truth = synthesize(root, viewers=400, minutes=20)
    return root, truth


@pytest.fixture(scope="module")
def redelivered(store, tmp_path_factory):
    """The same session with every stored object delivered twice (at least once delivery): each
    Parquet file again under another name, the events' second copies 30 s later (a republished
    envelope carries a later `time`), so the copy kept must be the first."""
    root, truth = store
    again = tmp_path_factory.mktemp("redelivered")
    for path in root.rglob("*.parquet"):
        target = again / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pq.read_table(path, partitioning=None)
        pq.write_table(table, target)
        if path.parts[len(root.parts)] == "events":
            later = pc.add(table["occurred_at"], pc.cast(30_000, "duration[ms]"))
            table = table.set_column(table.schema.get_field_index("occurred_at"), "occurred_at",
                                     later.cast(table["occurred_at"].type))
        pq.write_table(table, target.with_name(target.stem + "-redelivered.parquet"))
    return again, truth


def test_repeated_keys_count_once_on_both_paths_and_in_the_store_wide_views(store, redelivered):
    root, truth = store
    twice, _ = redelivered
    room, host = truth["room_id"], truth["host_id"]
    once_engine, twice_engine = queries.DuckDbEngine(root), queries.DuckDbEngine(twice)
    assert twice_engine.execute("SELECT count(*) AS n FROM events", [])[0]["n"] == 2 * once_engine.execute(
        "SELECT count(*) AS n FROM events", [])[0]["n"]
    with room_scope.open(room, once_engine) as scope:
        once = reports._compute(scope, room, host, title="", now=None)
    with room_scope.open(room, twice_engine) as scope:
        by_temp_tables = reports._compute(scope, room, host, title="", now=None)
    by_ctes = reports._compute(room_scope.RoomScope(room, twice_engine), room, host, title="", now=None)
    expected = once[0].model_dump(exclude={"computed_at"})
    assert by_temp_tables[0].model_dump(exclude={"computed_at"}) == expected
    assert by_ctes[0].model_dump(exclude={"computed_at"}) == expected
    assert by_temp_tables[1] == by_ctes[1] == once[1]
    assert (by_ctes[0].summary.gmv, by_ctes[0].summary.paid_orders) == (truth["gmv"], truth["paid_orders"])
    # the store-wide views every other query reads (traffic summary, product sessions, notices)
    for sql in ("SELECT room_id, viewer_id, reason FROM viewer_verdicts ORDER BY 1, 2",
                "SELECT room_id, type, count(*) AS n, sum(amount_fen) AS fen FROM accepted_events GROUP BY 1, 2 ORDER BY 1, 2",
                "SELECT room_id, kind, count(*) AS n FROM accepted_beacons GROUP BY 1, 2 ORDER BY 1, 2",
                "SELECT min(occurred_at) AS first, max(occurred_at) AS last FROM unique_events"):
        assert twice_engine.execute(sql, []) == once_engine.execute(sql, []), sql
    assert queries.run("traffic_summary", twice_engine, room_id=room) == queries.run(
        "traffic_summary", once_engine, room_id=room)


def test_unique_views_keep_every_column_of_their_table(store):
    root, _ = store
    engine = queries.DuckDbEngine(root)
    for table, view in ((BEACONS, "unique_beacons"), (EVENTS, "unique_events")):
        columns = [r["column_name"] for r in engine.execute(f"DESCRIBE {view}", [])]
        assert columns == [*table.column_names, "dt", "room_id"]
    with room_scope.open(truth_room(root), engine) as scope:
        for table, relation in ((BEACONS, "room_unique_beacons"), (EVENTS, "room_unique_events")):
            assert [r["column_name"] for r in scope._execute(f"DESCRIBE {relation}", [])] == list(table.column_names)


def truth_room(root):
    return next((root / "events").glob("*/room_id=*")).name.split("=", 1)[1]


def test_room_verdicts_equal_the_store_wide_view(store):
    root, truth = store
    engine = queries.DuckDbEngine(root)
    wide = engine.execute("SELECT viewer_id, reason, accepted FROM viewer_verdicts WHERE room_id = ?",
                          [truth["room_id"]])
    with room_scope.open(truth["room_id"], engine) as scope:
        scoped = scope._execute("SELECT viewer_id, reason, accepted FROM room_verdicts", [])
    key = lambda r: r["viewer_id"]  # noqa: E731
    assert sorted(scoped, key=key) == sorted(wide, key=key)
    assert {r["reason"] for r in scoped} >= {None, "no_playback_token", "heartbeat_rate", "shared_device"}


def test_both_paths_give_the_same_report_and_the_truth(store):
    root, truth = store
    engine = queries.DuckDbEngine(root)
    with room_scope.open(truth["room_id"], engine) as scope:
        assert isinstance(scope, room_scope.DuckDbRoomScope)
        by_temp_tables = reports._compute(scope, truth["room_id"], truth["host_id"], title="", now=None)
    # the Athena path: one statement per query with the relations as CTEs (run here by DuckDB)
    by_ctes = reports._compute(room_scope.RoomScope(truth["room_id"], engine), truth["room_id"], truth["host_id"],
                               title="", now=None)
    a, b = by_temp_tables[0].model_dump(exclude={"computed_at"}), by_ctes[0].model_dump(exclude={"computed_at"})
    assert a == b and by_temp_tables[1] == by_ctes[1]
    summary = by_temp_tables[0].summary
    assert (summary.unique_viewers, summary.gmv, summary.paid_orders) == (
        truth["unique_viewers"], truth["gmv"], truth["paid_orders"])
    assert by_temp_tables[0].traffic.excluded_viewers_by_reason == truth["excluded"]


def test_cte_composition():
    minutes = room_scope.with_relations(queries.sql_text("report_minutes"))
    # the query's own WITH is merged; verdicts come before what reads them; comments at the top go
    assert minutes.startswith("WITH room_unique_beacons AS (")
    assert (minutes.index("room_unique_beacons AS (") < minutes.index("room_verdicts AS (")
            < minutes.index("room_beacons AS (") < minutes.index("online AS ("))
    assert minutes.count("WITH ") == 2  # ours and the verdicts' own inner WITH
    span = room_scope.with_relations(queries.sql_text("report_span"))
    assert "room_events AS (" in span and "room_beacons AS (" not in span
    # room_events reads the verdicts, which read the room's unique beacons: the closure comes along
    assert "room_unique_events AS (" in span and "room_unique_beacons AS (" in span
    assert room_scope.relation_names().index("room_verdicts") < room_scope.relation_names().index("room_beacons")


def test_athena_gets_one_statement_per_query_with_the_room_bound():
    client = boto3.client("athena", region_name="cn-north-1", aws_access_key_id="x", aws_secret_access_key="x")
    engine = queries.AthenaEngine(workgroup="w", database="d", client=client, sleep=lambda s: None)
    scope = room_scope.RoomScope("r1' OR '1'='1", engine)
    expected_sql, values = room_scope._bind(room_scope.with_relations(queries.sql_text("report_span")),
                                           "r1' OR '1'='1", {})
    assert set(values) == {"r1' OR '1'='1"} and "?" in expected_sql
    with Stubber(client) as stub:
        stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, {
            "QueryString": expected_sql, "WorkGroup": "w", "QueryExecutionContext": {"Database": "d"},
            "ExecutionParameters": ["'r1'' OR ''1''=''1'"] * len(values)})
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}})
        stub.add_response("get_query_results", {"ResultSet": {"ResultSetMetadata": {"ColumnInfo": [
            {"Name": "started_at", "Type": "timestamp"}, {"Name": "ended_at", "Type": "timestamp"}]},
            "Rows": [{"Data": [{"VarCharValue": "started_at"}, {"VarCharValue": "ended_at"}]}]}},
            {"QueryExecutionId": "q-1", "MaxResults": ANY})
        assert scope.run("report_span") == []
        stub.assert_no_pending_responses()

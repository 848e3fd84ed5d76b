"""List parameters (`room_id IN (:room_ids)`, issue 11 outcome 2): each element is its own bound
parameter on both engines (DuckDB prepared-statement values, Athena ExecutionParameters quoted
as literals), so a hostile room id is compared as a value and never becomes SQL."""
from __future__ import annotations

import pytest

from livecommerce.analytics import queries

HOSTILE = ["r1", "r2') OR (1=1", "r3' OR '1'='1", "x'; DROP TABLE events; --", "?", ":room_id"]


def test_a_list_becomes_one_placeholder_per_element_in_order():
    text, names, values = queries.bind_values("SELECT 1 WHERE a = :a AND r IN (:ids) AND b = ':ids'",
                                              {"a": 1, "ids": ("x", "y", "z")})
    assert text == "SELECT 1 WHERE a = ? AND r IN (?, ?, ?) AND b = ':ids'"
    assert names == ["a", "ids", "ids", "ids"] and values == [1, "x", "y", "z"]
    with pytest.raises(ValueError):
        queries.bind_values("SELECT 1 WHERE r IN (:ids)", {"ids": []})          # `IN ()` is not SQL
    with pytest.raises(TypeError):
        queries.bind_values("SELECT 1 WHERE r IN (:ids)", {"ids": [["a", "b"]]})
    assert queries.room_list([]) == [queries.NOT_A_ROOM] and queries.room_list(("a",)) == ["a"]


def test_duckdb_compares_hostile_elements_as_values(tmp_path):
    engine = queries.DuckDbEngine(tmp_path)
    sql = ("SELECT x FROM (VALUES ('r1'), ('r2'), ('r3'), ('r9'), ('?'), (':room_id')) t(x) "
           "WHERE x IN (:ids) ORDER BY x")
    text, _, values = queries.bind_values(sql, {"ids": HOSTILE})
    assert sorted(r["x"] for r in engine.execute(text, values)) == sorted(["r1", "?", ":room_id"])
    # A real query file: a room list that tries to widen itself reads nothing more.
    assert queries.run("product_sessions", engine, product_id="P1", room_ids=HOSTILE) == []


class FakeAthena:
    def __init__(self) -> None:
        self.requests: list[dict] = []

    def start_query_execution(self, **request):
        self.requests.append(request)
        return {"QueryExecutionId": "q1"}

    def get_query_execution(self, QueryExecutionId):
        return {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}

    def get_query_results(self, QueryExecutionId, MaxResults, **_):
        return {"ResultSet": {"ResultSetMetadata": {"ColumnInfo": [{"Name": "source", "Type": "varchar"}]},
                              "Rows": [{"Data": [{"VarCharValue": "source"}]}]}}


def test_athena_gets_each_element_as_a_quoted_execution_parameter():
    client = FakeAthena()
    engine = queries.AthenaEngine(workgroup="wg", database="db", client=client, sleep=lambda _: None)
    assert queries.run("product_sessions", engine, product_id="P'1", room_ids=HOSTILE) == []
    request = client.requests[0]
    placeholders = ", ".join("?" * len(HOSTILE))
    assert request["QueryString"].count(f"room_id IN ({placeholders})") == 3
    assert not any(h in request["QueryString"] for h in HOSTILE[1:4])
    expected_rooms = ["'r1'", "'r2'') OR (1=1'", "'r3'' OR ''1''=''1'", "'x''; DROP TABLE events; --'", "'?'",
                      "':room_id'"]
    params = request["ExecutionParameters"]
    # starts (rooms), shown (rooms, product), sold (rooms, product): in the text's order
    assert params == [*expected_rooms, *expected_rooms, "'P''1'", *expected_rooms, "'P''1'"]

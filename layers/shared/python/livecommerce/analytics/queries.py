"""The query port: one SQL text per report query, kept in `sql/`, run by DuckDB or Athena.

    rows = queries.run("sample_room_counts", room_id="r1", day="2026-05-01")

- `sql/<name>.sql` is one query. Parameters are written `:name` and bound by the engine
  (DuckDB prepared-statement parameters; Athena `ExecutionParameters`): user input is never
  formatted into the SQL text. A list or tuple value (`room_id IN (:room_ids)`) becomes one
  placeholder per element (`?, ?, ?`), each element bound like any other value; an empty list
  is refused (`IN ()` is not SQL: callers pass `room_list(ids)`, which names no room instead).
- `sql/views/<name>.sql` are views (the fake-traffic classification, `beacon_verdicts`,
  and what builds on it) that every report query may read; DuckDB creates them on each
  connection, Athena keeps them in the Glue catalogue (`athena_view_statements`).
- The text must mean the same in DuckDB and Athena (Trino): standard SQL plus the few
  functions both have. Where the names differ, DuckDB gets a macro with Athena's name
  (`DUCKDB_SHIMS`), so the files use Athena's spelling.

The engine comes from the environment: `ANALYTICS_ENGINE=athena` (set by CDK on functions that
query) or `duckdb` with `ANALYTICS_STORE` (a folder, the local stack's Parquet root).
"""
from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Protocol

from livecommerce.analytics.store_schema import TABLES

SQL_DIR = Path(__file__).resolve().parent / "sql"
VIEWS_DIR = SQL_DIR / "views"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# Athena (Trino) names that DuckDB spells differently.
DUCKDB_SHIMS: tuple[str, ...] = (
    "CREATE OR REPLACE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p)",
    "CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(t)",
)


class QueryError(RuntimeError):
    """A query failed in its engine (not bad input: the caller validated that)."""


Params = dict[str, Any]


class Engine(Protocol):
    def execute(self, sql: str, values: list[Any]) -> list[dict[str, Any]]: ...


# ------------------------------------------------------------------ the SQL files

def sql_text(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a query name: {name!r}")
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise LookupError(f"no query {name!r} in {SQL_DIR}")
    return path.read_text()


def query_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in SQL_DIR.glob("*.sql")))


def view_names() -> tuple[str, ...]:
    """Views in dependency order: a file may say `-- after: <view>, <view>`."""
    texts = {p.stem: p.read_text() for p in VIEWS_DIR.glob("*.sql")}
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ValueError(f"views depend on each other in a cycle: {path + (name,)}")
        match = re.search(r"^--\s*after:\s*(.+)$", texts[name], re.M)
        for dep in (d.strip() for d in (match.group(1).split(",") if match else ())):
            visit(dep, path + (name,))
        order.append(name)

    for name in sorted(texts):
        visit(name, ())
    return tuple(order)


def view_text(name: str) -> str:
    return (VIEWS_DIR / f"{name}.sql").read_text()


# A room id no room has (not a ULID): the one element of an otherwise empty room list, so
# `room_id IN (:room_ids)` stays SQL and matches nothing (on Athena: a partition with no objects).
NOT_A_ROOM = "_not_a_room"
MAX_LIST = 1000      # elements of one list parameter (Athena allows 25,000 ExecutionParameters)


def room_list(room_ids: Any) -> list[str]:
    """A list parameter of room ids for `room_id IN (:room_ids)`: the ids, or [NOT_A_ROOM] when none."""
    ids = [str(r) for r in room_ids]
    return ids or [NOT_A_ROOM]


def bind(sql: str, params: Params) -> tuple[str, list[str]]:
    """Replace `:name` placeholders (outside string literals, quoted names and comments) with `?`,
    returning the text and the parameter names in order (a list parameter's name once per element).
    Every placeholder needs a value and every value a placeholder."""
    text, names, _ = bind_values(sql, params)
    return text, names


def _elements(name: str, value: Any) -> list[Any] | None:
    """A list parameter's elements (None: not a list). Each element is a plain value."""
    if not isinstance(value, (list, tuple)):
        return None
    if not value:
        raise ValueError(f"query parameter {name!r}: an empty list (use room_list)")
    if len(value) > MAX_LIST:
        raise ValueError(f"query parameter {name!r}: more than {MAX_LIST} elements")
    for element in value:
        if isinstance(element, (list, tuple, dict, set)):
            raise TypeError(f"query parameter {name!r}: a list of lists")
    return list(value)


def bind_values(sql: str, params: Params) -> tuple[str, list[str], list[Any]]:
    """`bind`, also returning the values in placeholder order (list parameters expanded)."""
    out: list[str] = []
    names: list[str] = []
    values: list[Any] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(sql[i:j])
            i = j
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_") \
                and (i == 0 or sql[i - 1] != ":"):
            m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", sql[i + 1:])
            assert m is not None
            name = m.group(0)
            elements = _elements(name, params[name]) if name in params else None
            if elements is None:
                names.append(name)
                values.append(params.get(name))
                out.append("?")
            else:
                names.extend([name] * len(elements))
                values.extend(elements)
                out.append(", ".join("?" * len(elements)))
            i += 1 + len(name)
        else:
            out.append(ch)
            i += 1
    missing = sorted(set(names) - set(params))
    unused = sorted(set(params) - set(names))
    if missing or unused:
        raise ValueError(f"query parameters: missing {missing}, not in the query {unused}")
    return "".join(out), names, values


def run(name: str, engine: Engine | None = None, **params: Any) -> list[dict[str, Any]]:
    """Run the query `sql/<name>.sql` with its `:name` parameters bound; rows as dicts."""
    sql, _, values = bind_values(sql_text(name), params)
    return (engine or default_engine()).execute(sql, values)


# ------------------------------------------------------------------ DuckDB (local, tests)

class DuckDbEngine:
    """Embedded DuckDB over the store's Parquet files under `root` (a folder)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._local = threading.local()

    def _connection(self) -> Any:
        import duckdb  # deferred: a local/test dependency (on AWS the queries run in Athena)

        con = getattr(self._local, "con", None)
        if con is None:
            con = duckdb.connect(":memory:")
            for statement in DUCKDB_SHIMS:
                con.execute(statement)
            self._local.con = con
        # Views are re-created for each query: a file written since the last one is seen.
        for table in TABLES:
            has_files = any((self.root / table.name).glob("*/*/*.parquet"))
            con.execute(table.duckdb_view_sql(str(self.root)) if has_files else table.duckdb_empty_view_sql())
        for view in view_names():
            con.execute(f'CREATE OR REPLACE VIEW "{view}" AS {view_text(view)}')
        return con

    def execute(self, sql: str, values: list[Any]) -> list[dict[str, Any]]:
        con = self._connection()
        try:
            cursor = con.execute(sql, values)
        except Exception as exc:  # duckdb.Error and its kinds
            raise QueryError(str(exc)) from exc
        columns = [d[0] for d in cursor.description or ()]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]


# ------------------------------------------------------------------ Athena (AWS)

def athena_literal(value: Any) -> str:
    """A parameter value as Athena's ExecutionParameters take it: SQL literal text. Strings are
    quoted with their quotes doubled, so a value can never end the literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return repr(value)
    if isinstance(value, datetime):
        utc = value.astimezone(timezone.utc) if value.tzinfo else value
        return f"TIMESTAMP '{utc.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no Athena literal for {type(value).__name__}")


_ATHENA_TYPES: dict[str, Callable[[str], Any]] = {
    "tinyint": int, "smallint": int, "integer": int, "bigint": int,
    "double": float, "float": float, "real": float, "decimal": float,
    "boolean": lambda v: v == "true",
}


@dataclass
class AthenaEngine:
    """Athena: StartQueryExecution with ExecutionParameters in the workgroup (which holds the
    encrypted result location), poll GetQueryExecution, page GetQueryResults."""

    workgroup: str
    database: str
    client: Any = None
    poll_seconds: float = 0.25
    timeout_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def _client(self) -> Any:
        if self.client is None:
            from livecommerce.shared import aws  # deferred: boto3, not paid at import

            self.client = aws.client("athena")
        return self.client

    def execute(self, sql: str, values: list[Any]) -> list[dict[str, Any]]:
        client = self._client()
        request: dict[str, Any] = {"QueryString": sql, "WorkGroup": self.workgroup,
                                   "QueryExecutionContext": {"Database": self.database}}
        if values:
            request["ExecutionParameters"] = [athena_literal(v) for v in values]
        query_id = client.start_query_execution(**request)["QueryExecutionId"]
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            status = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                break
            if state in ("FAILED", "CANCELLED"):
                raise QueryError(f"Athena query {query_id} {state}: {status.get('StateChangeReason', '')}")
            if time.monotonic() > deadline:
                client.stop_query_execution(QueryExecutionId=query_id)
                raise QueryError(f"Athena query {query_id} took longer than {self.timeout_seconds} s")
            self.sleep(self.poll_seconds)
        return self._results(client, query_id)

    @staticmethod
    def _results(client: Any, query_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        token: str | None = None
        header_skipped = False
        while True:
            page = client.get_query_results(QueryExecutionId=query_id, MaxResults=1000,
                                            **({"NextToken": token} if token else {}))
            info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
            names = [c["Name"] for c in info]
            casts = [_ATHENA_TYPES.get(c["Type"].lower(), str) for c in info]
            for row in page["ResultSet"]["Rows"]:
                cells = [d.get("VarCharValue") for d in row["Data"]]
                if not header_skipped:  # the first row of the first page repeats the column names
                    header_skipped = True
                    if cells == names:
                        continue
                rows.append({n: (None if v is None else cast(v)) for n, cast, v in zip(names, casts, cells)})
            token = page.get("NextToken")
            if not token:
                return rows


def athena_view_statements() -> list[str]:
    """`CREATE OR REPLACE VIEW` for each view, in dependency order (run once per deploy)."""
    return [f'CREATE OR REPLACE VIEW "{name}" AS {view_text(name)}' for name in view_names()]


_default: Engine | None = None
_default_lock = threading.Lock()


def default_engine() -> Engine:
    global _default
    with _default_lock:
        if _default is None:
            kind = os.environ.get("ANALYTICS_ENGINE", "duckdb")
            if kind == "athena":
                _default = AthenaEngine(workgroup=os.environ["ANALYTICS_WORKGROUP"],
                                        database=os.environ["ANALYTICS_DATABASE"])
            else:
                _default = DuckDbEngine(os.environ.get("ANALYTICS_STORE", ".local/analytics"))
        return _default


def use_engine(engine: Engine | None) -> None:
    """Set (or with None, forget) the engine `run` uses by default."""
    global _default
    with _default_lock:
        _default = engine

"""One report's room scope: the fake-traffic verdicts of a room computed ONCE, read by every query.

    with room_scope.open(room_id, engine) as scope:
        rows = scope.run("report_minutes")

`sql/room/*.sql` are relations of one room (`room_verdicts`, `room_beacons`, `room_events`),
each one SQL text with a `:room_id` parameter (a file may say `-- after: <relation>`). The report
queries (`sql/report_*.sql`) read the room through them instead of the store-wide views, so the
verdicts (a scan of every beacon of the room, grouped four ways) are not recomputed per query.

- DuckDB (local stack, tests, benchmark): one connection per scope; each relation becomes a
  TEMP TABLE once (`CREATE TEMP TABLE ... AS`), then every query runs on that connection.
- Athena (and any other engine): each query is sent as one statement with the relations it reads
  prepended as common table expressions (`WITH room_verdicts AS (...), room_beacons AS (...), ...`):
  the same SQL files, one round trip per query, the room's partitions only (partition projection
  on room_id). Athena may evaluate a CTE per reference; the scan is of one room's Parquet.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator

from livecommerce.analytics import queries
from livecommerce.analytics.store_schema import TABLES

ROOM_DIR = queries.SQL_DIR / "room"
_AFTER = re.compile(r"^--\s*after:\s*(.+)$", re.M)
_LEADING_COMMENTS = re.compile(r"\A(?:\s*--[^\n]*\n|\s+)*")


def relation_names() -> tuple[str, ...]:
    """The room relations in dependency order."""
    texts = {p.stem: p.read_text() for p in ROOM_DIR.glob("*.sql")}
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            raise ValueError(f"room relations depend on each other in a cycle: {path + (name,)}")
        match = _AFTER.search(texts[name])
        for dep in (d.strip() for d in (match.group(1).split(",") if match else ())):
            visit(dep, path + (name,))
        order.append(name)

    for name in sorted(texts):
        visit(name, ())
    return tuple(order)


def relation_text(name: str) -> str:
    return (ROOM_DIR / f"{name}.sql").read_text()


def _body(sql: str) -> str:
    """The statement without its leading comment lines (comments inside stay)."""
    return sql[_LEADING_COMMENTS.match(sql).end():]  # type: ignore[union-attr]


def _mentions(sql: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", sql) is not None


def _bind(sql: str, room_id: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """Bind `:name` parameters; `:room_id` is the scope's and may or may not be in the text."""
    try:
        text, _, values = queries.bind_values(sql, {**params, "room_id": room_id})
    except ValueError as exc:
        if "room_id" in params or "'room_id'" not in str(exc).split("not in the query")[-1]:
            raise
        text, _, values = queries.bind_values(sql, params)
    return text, values


def with_relations(sql: str) -> str:
    """The query with the room relations it reads (and theirs) prepended as CTEs."""
    body = _body(sql)
    needed = [name for name in relation_names() if _mentions(body, name)]
    # a relation's own dependencies come along (relation_names is in dependency order)
    for name in reversed(relation_names()):
        if name in needed:
            match = _AFTER.search(relation_text(name))
            needed += [d.strip() for d in (match.group(1).split(",") if match else ()) if d.strip() not in needed]
    ctes = [f"{name} AS (\n{_body(relation_text(name))}\n)" for name in relation_names() if name in needed]
    if not ctes:
        return body
    head = re.match(r"WITH\s+", body, re.I)
    if head:
        return "WITH " + ",\n".join(ctes) + ",\n" + body[head.end():]
    return "WITH " + ",\n".join(ctes) + "\n" + body


class RoomScope:
    def __init__(self, room_id: str, engine: queries.Engine) -> None:
        self.room_id = room_id
        self.engine = engine

    def run(self, name: str, **params: Any) -> list[dict[str, Any]]:
        sql, values = _bind(with_relations(queries.sql_text(name)), self.room_id, params)
        return self.engine.execute(sql, values)


class DuckDbRoomScope(RoomScope):
    """The relations as temp tables on one connection of their own."""

    def __init__(self, room_id: str, engine: queries.DuckDbEngine) -> None:
        super().__init__(room_id, engine)
        import duckdb  # deferred: a local/test dependency (on AWS the queries run in Athena)

        self.con = duckdb.connect(":memory:")
        for statement in queries.DUCKDB_SHIMS:
            self.con.execute(statement)
        root = engine.root
        for table in TABLES:
            has_files = any((root / table.name).glob("*/*/*.parquet"))
            self.con.execute(table.duckdb_view_sql(str(root)) if has_files else table.duckdb_empty_view_sql())
        for view in queries.view_names():
            self.con.execute(f'CREATE OR REPLACE VIEW "{view}" AS {queries.view_text(view)}')
        for relation in relation_names():
            sql, values = _bind(relation_text(relation), room_id, {})
            self._execute(f'CREATE TEMP TABLE "{relation}" AS {_body(sql)}', values)

    def _execute(self, sql: str, values: list[Any]) -> list[dict[str, Any]]:
        try:
            cursor = self.con.execute(sql, values)
        except Exception as exc:  # duckdb.Error and its kinds
            raise queries.QueryError(str(exc)) from exc
        columns = [d[0] for d in cursor.description or ()]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def run(self, name: str, **params: Any) -> list[dict[str, Any]]:
        sql, values = _bind(queries.sql_text(name), self.room_id, params)
        return self._execute(sql, values)

    def close(self) -> None:
        self.con.close()


@contextmanager
def open(room_id: str, engine: queries.Engine | None = None) -> Iterator[RoomScope]:  # noqa: A001 (scope.open)
    engine = engine or queries.default_engine()
    if isinstance(engine, queries.DuckDbEngine):
        scope = DuckDbRoomScope(room_id, engine)
        try:
            yield scope
        finally:
            scope.close()
    else:
        yield RoomScope(room_id, engine)

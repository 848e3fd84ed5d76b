"""Athena's rule for the store's tables, checked statically on every SQL file (so it cannot drift).

On AWS the Glue tables `beacons` and `events` use partition projection with `room_id` of type
`injected` (cdk/stacks/analytics_stack.py): Athena then needs, for every scan of them, static
equality conditions on room_id (`room_id = <literal or parameter>`, `room_id IN (<literals or
parameters>)`), or it refuses the query (CONSTRAINT_VIOLATION, Athena user guide "Use dynamic ID
partitioning"). The store-wide views (sql/views/) scan the tables without a room: their readers
must pin the room, and Athena pushes that condition below the views' room-partitioned windows and
room_id joins.

The check parses each query and room relation with DuckDB's own parser (json_serialize_sql) and
finds every reference to a table or store-wide view in every SELECT (CTEs and subqueries
included); a reference is pinned by a WHERE or JOIN conjunct naming its room_id with literals or
parameters only, or by `x.room_id = y.room_id` with a pinned reference. A CTE built on store
references counts as one when read. Anything else is listed; KNOWN_CROSS_ROOM holds the queries
that still read across rooms (none left), so a new unpinned query fails here, and so does a fixed
one left in the list."""
from __future__ import annotations

import json
import re

import duckdb
import pytest

from livecommerce.analytics import queries
from livecommerce.analytics.queries import SQL_DIR

STORE_TABLES = {"beacons", "events"}
# Queries that still read the store across rooms (none: the host's earlier sessions, the preview
# audience and a product's sessions read the rooms named by the rooms context, `IN (:room_ids)`).
KNOWN_CROSS_ROOM: dict[str, set[str]] = {}


def _files() -> list:
    return sorted(SQL_DIR.glob("*.sql")) + sorted((SQL_DIR / "room").glob("*.sql"))


def _parsed(sql: str) -> dict:
    no_comments = re.sub(r"--[^\n]*", "", sql)
    names = set(re.findall(r"(?<![:\w]):([A-Za-z_]\w*)", re.sub(r"'[^']*'", "''", no_comments)))
    text, _ = queries.bind(no_comments, {n: None for n in names})
    tree = json.loads(duckdb.connect().execute("SELECT json_serialize_sql(?)", [text]).fetchone()[0])
    assert not tree.get("error"), tree.get("error_message")
    return tree["statements"][0]["node"]


def _static(expr: dict) -> bool:
    return expr.get("class") in ("PARAMETER", "CONSTANT") or (
        expr.get("class") == "CAST" and _static(expr.get("child", {})))


def _room_column(expr: dict) -> tuple[str, ...] | None:
    if expr.get("class") == "COLUMN_REF" and expr["column_names"][-1] == "room_id":
        return tuple(expr["column_names"][:-1])
    return None


def _conjuncts(expr: dict | None) -> list[dict]:
    if not expr:
        return []
    if expr.get("type") == "CONJUNCTION_AND":
        return [c for child in expr["children"] for c in _conjuncts(child)]
    return [expr]


class Checker:
    def __init__(self, store: set[str]) -> None:
        self.store = store
        self.unpinned: list[str] = []

    def node(self, node: dict, ctes: dict[str, bool]) -> bool:
        """Check a query node; True when every store reference under it is pinned."""
        scope = dict(ctes)
        pinned_all = True
        for entry in node.get("cte_map", {}).get("map", []):
            scope[entry["key"]] = self.node(entry["value"]["query_node"], scope)
        kind = node["type"]
        if kind == "SET_OPERATION_NODE":
            return all([self.node(child, scope) for child in node["children"]]) and pinned_all
        if kind != "SELECT_NODE":
            return pinned_all
        refs: dict[str, str] = {}            # "name alias" -> store | cte (unpinned inside) | cte-ok
        conditions: list[dict] = _conjuncts(node.get("where_clause"))
        ok = self.from_(node.get("from_table"), scope, refs, conditions)
        changed = True
        pins: set[str] = set()
        while changed:
            changed = False
            for c in conditions:
                if c.get("type") == "COMPARE_EQUAL":
                    left, right = _room_column(c["left"]), _room_column(c["right"])
                    if left is not None and _static(c["right"]):
                        changed |= self._pin(refs, pins, left)
                    elif right is not None and _static(c["left"]):
                        changed |= self._pin(refs, pins, right)
                    elif left is not None and right is not None:
                        if self._is_pinned(refs, pins, left):
                            changed |= self._pin(refs, pins, right)
                        if self._is_pinned(refs, pins, right):
                            changed |= self._pin(refs, pins, left)
                elif c.get("type") == "COMPARE_IN":
                    column = _room_column(c["children"][0])
                    if column is not None and all(_static(v) for v in c["children"][1:]):
                        changed |= self._pin(refs, pins, column)
        for alias, store_ref in refs.items():
            if alias not in pins and store_ref != "cte-ok":
                if store_ref == "store":
                    self.unpinned.append(alias)
                ok = False
        return ok

    @staticmethod
    def _matches(alias: str, column: tuple[str, ...], refs: dict) -> list[str]:
        if column:
            return [a for a in refs if a.split(" ")[-1] == column[-1]]
        return list(refs)

    def _pin(self, refs: dict, pins: set[str], column: tuple[str, ...]) -> bool:
        new = {a for a in self._matches("", column, refs)} - pins
        pins |= new
        return bool(new)

    def _is_pinned(self, refs: dict, pins: set[str], column: tuple[str, ...]) -> bool:
        found = self._matches("", column, refs)
        return bool(found) and all(a in pins or refs[a] == "cte-ok" for a in found)

    def from_(self, table: dict | None, scope: dict[str, bool], refs: dict, conditions: list[dict]) -> bool:
        if not table:
            return True
        kind = table["type"]
        if kind == "BASE_TABLE":
            name, alias = table["table_name"], table.get("alias") or ""
            key = f"{name} {alias}".strip()
            if name in scope:
                refs[key] = "cte-ok" if scope[name] else "cte"
            elif name in self.store:
                refs[key] = "store"
            return True
        if kind == "JOIN":
            conditions.extend(_conjuncts(table.get("condition")))
            return self.from_(table["left"], scope, refs, conditions) & self.from_(table["right"], scope, refs,
                                                                                   conditions)
        if kind == "SUBQUERY":
            inner = self.node(table["subquery"]["node"], scope)
            refs[f"(subquery) {table.get('alias') or ''}".strip()] = "cte-ok" if inner else "cte"
            return inner
        return True


def unpinned_references(sql: str) -> list[str]:
    checker = Checker(STORE_TABLES | set(queries.view_names()))
    checker.node(_parsed(sql), {})
    return checker.unpinned


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_every_store_read_names_its_rooms_as_athena_requires(path):
    found = set(unpinned_references(path.read_text()))
    assert found == KNOWN_CROSS_ROOM.get(path.name, set()), (
        f"{path.name}: reads of the store without a static room_id condition: {sorted(found)}")


def test_the_checker_refuses_what_athena_refuses_and_accepts_what_it_accepts():
    refused = [
        "SELECT count(*) FROM events",                                                   # no room at all
        "SELECT count(*) FROM events WHERE room_id <> :room_id",                        # not an equality
        "SELECT count(*) FROM beacons b JOIN events e ON e.room_id = b.room_id WHERE e.type = 'x'",
        "WITH r AS (SELECT room_id FROM unique_events WHERE type = 'RoomStarted') "
        "SELECT count(*) FROM accepted_beacons b JOIN r ON r.room_id = b.room_id",      # rooms read from data
        "SELECT count(*) FROM events WHERE room_id = (SELECT max(room_id) FROM beacons WHERE room_id = :r)",
    ]
    accepted = [
        "SELECT count(*) FROM events WHERE room_id = :room_id",
        "SELECT count(*) FROM events e WHERE e.type = 'HostFollowed' AND e.room_id = '_none'",
        "SELECT count(*) FROM beacons b WHERE b.room_id IN (:a, :b, '_none')",
        "SELECT count(*) FROM unique_beacons b JOIN viewer_verdicts v ON v.room_id = b.room_id "
        "WHERE b.room_id = :room_id",
        "WITH x AS (SELECT * FROM events WHERE room_id = :r) SELECT count(*) FROM x",
    ]
    assert [q for q in refused if not unpinned_references(q)] == []
    assert [q for q in accepted if unpinned_references(q)] == []

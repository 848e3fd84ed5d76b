"""Count the AWS operations a piece of code makes, by service, with their billable units.

`AwsMeter` wraps botocore's one funnel for every API call (`BaseClient._make_api_call`), so
it sees the calls of boto3 clients and of PynamoDB's own botocore client alike, whichever
thread makes them. For DynamoDB it keeps what each write touched (table, key, kind, inside a
transaction or not, the item when the request carries it) and what each read returned, and turns
them into the units DynamoDB bills (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):

* a write of an item up to 1 KB is 1 write unit (WCU), one more per further KB; in a
  transaction (TransactWriteItems) twice that; an update or delete is billed on the larger of the
  item before and after, which the request does not carry, so the caller passes `size_of`
  (the stored item's size, read outside the meter) and deleted items count what their put carried;
* each global secondary index holding the item (its key attribute present; every index of this
  project projects ALL) costs one more write of the item's size, two when the index key changes
  (a delete and a put); a delete costs one in each index that held it;
* a strongly consistent read of up to 4 KB is 1 read unit (RCU), eventually consistent 0.5;
  a Query or Scan is billed on the summed size of what it read, not item by item.

moto's own ConsumedCapacity is a constant (1.0 or 0.5 whatever the item), so the units are
computed here from item sizes (`item_bytes`, DynamoDB's documented sizing rules).
"""
from __future__ import annotations

import math
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import botocore.client

KB = 1024
INDEX_KEYS = ("gsi1pk", "gsi2pk", "gsi3pk")     # the project's index partition keys (shared/storage.py)


def _number_bytes(text: str) -> int:
    """A number: about one byte per two significant digits, plus one (DynamoDB's sizing note)."""
    digits = text.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_bytes(value: dict[str, Any]) -> int:
    """The size of one attribute value in DynamoDB JSON ({"S": ...}, {"N": ...}, {"M": {...}}, ...)."""
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return _number_bytes(str(inner))
    if kind == "B":
        return len(inner) if isinstance(inner, (bytes, bytearray)) else math.ceil(len(inner) * 3 / 4)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(_number_bytes(str(n)) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_bytes(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(value_bytes(v) + 1 for v in inner)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_bytes(item: dict[str, dict[str, Any]]) -> int:
    """An item's size: the UTF-8 length of each attribute name plus its value's size."""
    return sum(len(name.encode("utf-8")) + value_bytes(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool) -> int:
    return max(1, math.ceil(size / KB)) * (2 if transactional else 1)


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / (4 * KB)))
    return units if consistent else units / 2


@dataclass
class Write:
    table: str
    key: tuple
    kind: str                    # put, update, delete
    transactional: bool
    item: dict | None = None     # the item a put carried (DynamoDB JSON)
    index_keys_set: tuple[str, ...] = ()    # index key attributes an update sets or removes


@dataclass
class Call:
    service: str
    operation: str
    seconds: float
    request_bytes: int


@dataclass
class AwsMeter:
    calls: list[Call] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    read_units: Counter = field(default_factory=Counter)     # table -> RCUs
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _active: bool = False

    # -- the hook -------------------------------------------------------------------------
    @contextmanager
    def watching(self) -> Iterator["AwsMeter"]:
        original = botocore.client.BaseClient._make_api_call
        meter = self

        def counted(client, operation_name, api_params):
            started = time.perf_counter()
            response = original(client, operation_name, api_params)
            if meter._active:
                meter._record(client.meta.service_model.endpoint_prefix, operation_name, api_params, response,
                              time.perf_counter() - started)
            return response

        botocore.client.BaseClient._make_api_call = counted
        self._active = True
        try:
            yield self
        finally:
            self._active = False
            botocore.client.BaseClient._make_api_call = original

    @contextmanager
    def paused(self) -> Iterator[None]:
        self._active = False
        try:
            yield
        finally:
            self._active = True

    def _record(self, service: str, operation: str, params: dict, response: dict, seconds: float) -> None:
        with self._lock:
            self.calls.append(Call(service, operation, seconds, len(repr(params))))
            if service == "dynamodb":
                self._dynamo(operation, params, response)

    def _dynamo(self, operation: str, params: dict, response: dict) -> None:
        if operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                (action, body), = entry.items()
                if action == "ConditionCheck":      # billed as a read-modify: one write unit x2 (tx)
                    self.writes.append(Write(body["TableName"], _key(body["Key"]), "check", True))
                else:
                    self.writes.append(_write(action, body, transactional=True))
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.writes.append(_write(operation[:-4], params, transactional=False))
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        self.writes.append(Write(table, _key(request["PutRequest"]["Item"]), "put", False,
                                                 request["PutRequest"]["Item"]))
                    else:
                        self.writes.append(Write(table, _key(request["DeleteRequest"]["Key"]), "delete", False))
        elif operation == "GetItem":
            size = item_bytes(response.get("Item") or {})
            self.read_units[params["TableName"]] += read_units(size, consistent=bool(params.get("ConsistentRead")))
        elif operation in ("Query", "Scan"):
            size = sum(item_bytes(i) for i in response.get("Items", []))
            self.read_units[params["TableName"]] += read_units(size, consistent=bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table, items in response.get("Responses", {}).items():
                consistent = bool(params["RequestItems"].get(table, {}).get("ConsistentRead"))
                self.read_units[table] += sum(read_units(item_bytes(i), consistent=consistent) for i in items)
        elif operation == "TransactGetItems":
            for entry in response.get("Responses", []):
                self.read_units["(transactions)"] += 2 * read_units(item_bytes(entry.get("Item") or {}),
                                                                    consistent=True)

    # -- figures ---------------------------------------------------------------------------
    def by_service(self) -> Counter:
        return Counter(c.service for c in self.calls)

    def by_operation(self) -> Counter:
        return Counter(f"{c.service}:{c.operation}" for c in self.calls)

    def write_units(self, size_of: Callable[[str, tuple], int | None] | None = None) -> Counter:
        """Write units per table (indexes counted with their table). `size_of(table, key)`: the
        stored item's size now (None: gone), for updates and deletes whose size the request lacks."""
        known: dict[tuple, dict] = {}
        units: Counter = Counter()
        for w in self.writes:
            ref = (w.table, w.key)
            if w.kind == "put":
                known[ref] = w.item
            item = known.get(ref)
            size = item_bytes(item) if item is not None else None
            if size is None and size_of is not None:
                size = size_of(w.table, w.key)
            size = size or KB          # unknown: at most 1 KB (the project's small items)
            units[w.table] += write_units(size, transactional=w.transactional)
            # Index writes (every index projects ALL): a put or update of an item in an index
            # rewrites its entry, a changed index key is a delete and a put, a delete removes it.
            indexed = [k for k in INDEX_KEYS if item is not None and k in item] if w.kind != "update" else \
                [k for k in INDEX_KEYS if k in w.index_keys_set]
            if w.kind == "update" and item is not None:
                indexed = sorted(set(indexed) | {k for k in INDEX_KEYS if k in item})
            for k in indexed:
                changes_key = w.kind == "update" and k in w.index_keys_set and item is not None and k in item
                units[w.table] += max(1, math.ceil(size / KB)) * (2 if changes_key else 1)
            if w.kind == "delete":
                known.pop(ref, None)
        return units


def _key(item: dict) -> tuple:
    return (item.get("pk", {}).get("S"), item.get("sk", {}).get("S"))


def _write(action: str, body: dict, *, transactional: bool) -> Write:
    table = body["TableName"]
    if action == "Put":
        return Write(table, _key(body["Item"]), "put", transactional, body["Item"])
    if action == "Update":
        expression = body.get("UpdateExpression", "")
        names = body.get("ExpressionAttributeNames", {})
        touched = tuple(k for k in INDEX_KEYS if k in expression or any(v == k for v in names.values()))
        return Write(table, _key(body["Key"]), "update", transactional, None, touched)
    return Write(table, _key(body["Key"]), "delete", transactional)

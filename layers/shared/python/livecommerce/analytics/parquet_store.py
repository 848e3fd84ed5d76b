"""Write JSON records to the store as Parquet, the way Firehose does on AWS (local side).

Firehose on AWS: record-format conversion (HiveJsonSerDe, "millis" timestamps) against the
Glue table, then dynamic partitioning by `dt` and `room_id` into
`<table>/dt=YYYY-MM-DD/room_id=<id>/<file>.parquet`. Here: the local Firehose stand-in
(`local/firehose.py`) and the benchmark call `write_records`, which converts with the same
schema (store_schema) and writes the same layout under a folder. Fields a record has beyond the
table's columns are dropped, as Firehose's conversion drops them; a missing one is null.

pyarrow is a local/test dependency: imported inside the functions.
"""
from __future__ import annotations

import os
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from livecommerce.analytics.store_schema import BY_NAME, Table, day_of, partition_room

# The column of each table that decides the partition's day.
PARTITION_TIME = {"beacons": "received_at", "events": "occurred_at"}


def _millis(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("a time is epoch milliseconds or ISO 8601")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


def partition_of(table: Table, record: dict[str, Any]) -> tuple[str, str]:
    """(dt, room_id) of a record: the day of its partition time, its room (or NO_ROOM)."""
    millis = _millis(record.get(PARTITION_TIME[table.name]))
    if millis is None:
        raise ValueError(f"{table.name} record without {PARTITION_TIME[table.name]}")
    return day_of(millis), partition_room(record.get("room_id"))


def write_records(root: str | Path, table_name: str, records: Iterable[dict[str, Any]]) -> list[Path]:
    """Write records as one Parquet file per (dt, room_id) partition; the files written.
    Each file appears whole (written under a temporary name, then renamed)."""
    import pyarrow as pa  # deferred: a local/test dependency, never in the Lambda layer
    import pyarrow.parquet as pq  # deferred: as above

    table = BY_NAME[table_name]
    schema = table.pyarrow_schema()
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[partition_of(table, record)].append(record)
    written: list[Path] = []
    timestamp_columns = [c.name for c in table.columns if c.type == "timestamp"]
    for (day, room), rows in groups.items():
        columns: dict[str, list[Any]] = {name: [] for name in table.column_names}
        for row in rows:
            for name in table.column_names:
                value = row.get(name)
                columns[name].append(_millis(value) if name in timestamp_columns else value)
        arrays = []
        for field in schema:
            if field.name in timestamp_columns:
                arrays.append(pa.array(columns[field.name], type=pa.int64()).cast(field.type))
            else:
                arrays.append(pa.array(columns[field.name], type=field.type))
        batch = pa.Table.from_arrays(arrays, schema=schema)
        folder = Path(root) / table.object_prefix(day, room)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{table.name}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex}.parquet"
        tmp = folder / f".{name}.tmp"
        pq.write_table(batch, tmp, compression="snappy")
        os.replace(tmp, folder / name)
        written.append(folder / name)
    return written

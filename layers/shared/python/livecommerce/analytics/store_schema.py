"""The analytics store's tables, in one place.

Each table is a list of typed columns plus two Hive partition keys, `dt` (the UTC date,
YYYY-MM-DD) and `room_id`. Everything else is derived from these definitions:

- the Parquet schema the local Firehose stand-in writes (`pyarrow_schema`),
- the Glue table columns CDK declares, which Firehose's record-format conversion and Athena
  read (`glue_columns`, `glue_partition_keys`),
- the DuckDB view the local query engine reads (`duckdb_view_sql`),
- the S3 layout: `<table>/dt=YYYY-MM-DD/room_id=<id>/<file>.parquet` (`object_prefix`).

Times are `timestamp` (UTC, millisecond precision, no zone: what Athena reads from Parquet);
JSON records carry them as epoch milliseconds (Firehose's HiveJsonSerDe with the "millis"
timestamp format; the local stand-in converts the same way). Money is `bigint` fen.

This module imports nothing heavy: pyarrow is imported inside `pyarrow_schema` (it is a local
and test dependency only; on AWS Firehose writes the Parquet).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

ColumnType = Literal["string", "bigint", "int", "boolean", "timestamp"]

# The same logical type in each engine.
_GLUE = {"string": "string", "bigint": "bigint", "int": "int", "boolean": "boolean", "timestamp": "timestamp"}
_DUCKDB = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "boolean": "BOOLEAN",
           "timestamp": "TIMESTAMP"}

PARTITION_KEYS: tuple[str, ...] = ("dt", "room_id")
# A room id as it may appear in an S3 key and a partition value (the API's ids are ULIDs or
# short slugs; anything else is refused before it reaches a path).
_PARTITION_VALUE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
# Events that concern no room (a follow, a coupon template) are filed under this room value.
NO_ROOM = "_none"


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def glue_columns(self) -> list[dict[str, str]]:
        """The Glue StorageDescriptor columns (name, type, comment)."""
        return [{"name": c.name, "type": _GLUE[c.type], "comment": c.doc[:255]} for c in self.columns]

    @staticmethod
    def glue_partition_keys() -> list[dict[str, str]]:
        return [{"name": "dt", "type": "string", "comment": "UTC date, YYYY-MM-DD"},
                {"name": "room_id", "type": "string", "comment": f"room id ({NO_ROOM}: no room)"}]

    def pyarrow_schema(self) -> Any:
        import pyarrow as pa  # deferred: a local/test dependency, never in the Lambda layer

        types = {"string": pa.string(), "bigint": pa.int64(), "int": pa.int32(), "boolean": pa.bool_(),
                 "timestamp": pa.timestamp("ms")}
        return pa.schema([pa.field(c.name, types[c.type], nullable=c.nullable) for c in self.columns])

    def duckdb_view_sql(self, root: str) -> str:
        """A DuckDB view named like the table over its Parquet files under `root` (a local
        folder or s3:// prefix), with dt and room_id read from the Hive partition path."""
        glob = f"{root.rstrip('/')}/{self.name}/*/*/*.parquet".replace("'", "''")
        select = ", ".join(f'CAST("{c.name}" AS {_DUCKDB[c.type]}) AS "{c.name}"' for c in self.columns)
        return (f'CREATE OR REPLACE VIEW "{self.name}" AS SELECT {select}, dt, room_id '
                f"FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true, "
                f"hive_types = {{'dt': VARCHAR, 'room_id': VARCHAR}})")

    def duckdb_empty_view_sql(self) -> str:
        """The same view with no rows (no file written yet): the queries still run."""
        select = ", ".join(f'CAST(NULL AS {_DUCKDB[c.type]}) AS "{c.name}"' for c in self.columns)
        return (f'CREATE OR REPLACE VIEW "{self.name}" AS SELECT {select}, '
                f"CAST(NULL AS VARCHAR) AS dt, CAST(NULL AS VARCHAR) AS room_id WHERE false")

    def object_prefix(self, day: str, room_id: str | None) -> str:
        """`<table>/dt=<day>/room_id=<room>/`: the Hive partition of one day and room."""
        return f"{self.name}/dt={day}/room_id={partition_room(room_id)}/"


def delivery_stream_name(prefix: str, table_name: str) -> str:
    """The Firehose delivery stream that writes `table_name` (CDK names it so; the local stand-in too)."""
    return f"{prefix}-analytics-{table_name}"


def partition_room(room_id: str | None) -> str:
    if not room_id:
        return NO_ROOM
    if not _PARTITION_VALUE.match(room_id):
        raise ValueError(f"room id {room_id!r} cannot be a partition value")
    return room_id


def day_of(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d")


# The beacon kinds a player sends (livecommerce.analytics.beacons validates them).
BEACON_KINDS: tuple[str, ...] = ("enter", "heartbeat", "leave", "card_impression", "product_click",
                                 "share_click", "replay_watch")

BEACONS = Table(
    name="beacons",
    description="Viewer behaviour beacons (POST /v1/rooms/{room_id}/events), one row per beacon",
    columns=(
        Column("request_id", "string", "API Gateway request id of the batch ($context.requestId)", False),
        Column("seq", "int", "position of the beacon in its batch; (request_id, seq) is the beacon's key", False),
        Column("received_at", "timestamp", "server receive time of the batch", False),
        Column("client_at", "timestamp", "client time, clamped to received_at +- the allowed skew", False),
        Column("viewer_id", "string", "the caller, from the login token (never from the body)", False),
        Column("kind", "string", "enter, heartbeat, leave, card_impression, product_click, share_click, "
                                 "replay_watch", False),
        Column("product_id", "string", "product of a card impression or product click"),
        Column("play_id", "string", "client playback session id (one per player start)"),
        Column("device_id", "string", "client device id"),
        Column("source_ip", "string", "caller address ($context.identity.sourceIp)"),
        Column("playback_token", "boolean", "the batch carried a playback token valid for this room and viewer",
               False),
        Column("realtime", "boolean", "the client reported a live realtime (MQTT) connection", False),
        Column("position_s", "int", "replay position in seconds (replay_watch)"),
    ),
)

EVENTS = Table(
    name="events",
    description="Every domain event from the event bus (EventBridge -> Firehose), one row per event",
    columns=(
        Column("event_id", "string", "the event's id (outbox event id, else EventBridge's)", False),
        Column("type", "string", "detail-type, e.g. OrderPaid", False),
        Column("source", "string", "EventBridge source", False),
        Column("occurred_at", "timestamp", "the event's time", False),
        Column("user_id", "string", "detail.user_id (buyer, liker, follower, claimer)"),
        Column("amount_fen", "bigint", "money of the event in fen (detail.amount_fen / total / amount)"),
        Column("product_id", "string", "detail.product_id"),
        Column("order_id", "string", "detail.order_id"),
        Column("detail", "string", "the event's detail as JSON text"),
    ),
)

TABLES: tuple[Table, ...] = (BEACONS, EVENTS)
BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

"""DynamoDB stream -> Lambda event source mappings, for the local stack and tests.

Reads the streams of the tables named by livecommerce.manifest.STREAM_CONSUMERS
from the embedded AWS (moto) and calls each consumer's real handler with the
event Lambda would send ({"Records": [...]}), applying the same filter
patterns, batch size, batching window and parallelization factor. Each
consumer has its own shard iterators (as two event source mappings on one
stream do); records are spread over `parallelization_factor` lanes by
partition key (one key's records stay in order in one lane) and each lane is
called one batch at a time; a failing batch is retried, never skipped. Shards are
polled four times a second, as Lambda's stream poller does.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterable

log = logging.getLogger("local.streams")
READ_PAGE = 50
Invoke = Callable[[str, dict[str, Any]], Any]


def matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering for the pattern shapes we use: nested objects, lists of
    exact values, {"prefix": ...} and {"exists": bool}."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(matches(sub, value.get(key)) for key, sub in pattern.items())
    if isinstance(pattern, list):
        for option in pattern:
            if isinstance(option, dict):
                if "prefix" in option and isinstance(value, str) and value.startswith(option["prefix"]):
                    return True
                if "exists" in option and (value is not None) == bool(option["exists"]):
                    return True
            elif value == option:
                return True
        return False
    return pattern == value


def passes(filters: Iterable[dict], record: dict[str, Any]) -> bool:
    filters = list(filters)
    return not filters or any(matches(f, record) for f in filters)


def _streams_client(session: Any) -> Any:
    from botocore.config import Config

    # botocore's account-based endpoints (<account>.streams-ddb...) are not routed by moto.
    return session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))


class _Lane:
    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.first_at: float | None = None
        self.lock = threading.Lock()
        self.wake = threading.Event()


class _Mapping:
    def __init__(self, consumer: Any, stream_arn: str) -> None:
        self.consumer = consumer
        self.stream_arn = stream_arn
        self.iterators: dict[str, str | None] = {}
        self.lanes = [_Lane() for _ in range(max(1, getattr(consumer, "parallelization_factor", 1)))]

    def lane_for(self, record: dict[str, Any]) -> _Lane:
        import zlib

        keys = (record.get("dynamodb") or {}).get("Keys") or {}
        pk = next(iter((keys.get("pk") or {}).values()), "")
        return self.lanes[zlib.crc32(str(pk).encode()) % len(self.lanes)]


class StreamPump:
    """Delivers stream records to the consumers; `drain()` once, or `start()` a poller."""

    def __init__(self, session: Any, table_names: dict[str, str], consumers: Iterable[Any] | None = None,
                 invoke: Invoke | None = None, poll_seconds: float = 0.25) -> None:
        if consumers is None:
            from livecommerce.manifest import STREAM_CONSUMERS

            consumers = STREAM_CONSUMERS
        if invoke is None:
            from local.lambda_runtime import invoke as lambda_invoke

            invoke = lambda_invoke
        self._session = session
        self._ddb = session.client("dynamodb")
        self._streams = _streams_client(session)
        self._invoke = invoke
        self._poll = poll_seconds
        self._mappings = []
        for consumer in consumers:
            table = table_names[consumer.table_logical_id]
            arn = self._ddb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
            if not arn:
                raise LookupError(f"table {table} has no stream (TableSpec.stream)")
            self._mappings.append(_Mapping(consumer, arn))
        for mapping in self._mappings:  # LATEST: from now on
            self._refresh_shards(mapping)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.delivered = 0

    def _refresh_shards(self, mapping: _Mapping) -> None:
        shards = self._streams.describe_stream(StreamArn=mapping.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in mapping.iterators:
                mapping.iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                    StreamArn=mapping.stream_arn, ShardId=shard["ShardId"],
                    ShardIteratorType=mapping.consumer.starting_position)["ShardIterator"]

    def _read(self, mapping: _Mapping) -> None:
        for shard_id, iterator in list(mapping.iterators.items()):
            if iterator is None:
                continue
            records: list[dict[str, Any]] = []
            while iterator is not None:
                # Small pages: each call holds the embedded AWS (one request at a time), and
                # a busy table's records should not keep the API waiting behind one big read.
                got = self._streams.get_records(ShardIterator=iterator, Limit=READ_PAGE)
                page = got.get("Records", [])
                records.extend(page)
                iterator = got.get("NextShardIterator")
                if len(page) < READ_PAGE:
                    break
            mapping.iterators[shard_id] = iterator
            for record in records:
                if passes(mapping.consumer.filters, record):
                    lane = mapping.lane_for(record)
                    with lane.lock:
                        if lane.first_at is None:
                            lane.first_at = time.monotonic()
                        lane.pending.append(record)
                    lane.wake.set()

    def _deliver(self, consumer: Any, lane: _Lane, *, force: bool) -> int:
        with lane.lock:
            if not lane.pending:
                return 0
            waited = time.monotonic() - (lane.first_at or time.monotonic())
            if not force and len(lane.pending) < consumer.batch_size and waited < consumer.batching_window_seconds:
                return 0
            records, lane.pending, lane.first_at = lane.pending, [], None
        delivered = 0
        while records:
            batch, records = records[:consumer.batch_size], records[consumer.batch_size:]
            for attempt in range(consumer.retry_attempts + 1):
                try:
                    self._invoke(consumer.function, {"Records": batch})
                    break
                except Exception:  # noqa: BLE001 - retried like an event source mapping does
                    log.exception("stream batch failed (%s), attempt %d", consumer.name, attempt + 1)
                    time.sleep(0.05)
            delivered += len(batch)
        self.delivered += delivered
        return delivered

    def drain(self) -> int:
        """Read and deliver everything waiting now, ignoring batching windows (tests)."""
        total = 0
        for mapping in self._mappings:
            self._read(mapping)
            for lane in mapping.lanes:
                total += self._deliver(mapping.consumer, lane, force=True)
        return total

    # -- background ------------------------------------------------------------------
    def start(self) -> None:
        for mapping in self._mappings:
            name = mapping.consumer.name
            self._threads.append(threading.Thread(target=self._run_reader, args=(mapping,), name=f"stream-{name}",
                                                  daemon=True))
            for n, lane in enumerate(mapping.lanes):
                self._threads.append(threading.Thread(target=self._run_lane, args=(mapping.consumer, lane),
                                                      name=f"stream-{name}-{n}", daemon=True))
        for thread in self._threads:
            thread.start()

    def _run_reader(self, mapping: _Mapping) -> None:
        while not self._stop.is_set():
            try:
                self._read(mapping)
            except Exception:  # noqa: BLE001 - keep pumping
                log.exception("stream read error (%s)", mapping.consumer.name)
                self._stop.wait(0.5)
            self._stop.wait(self._poll)

    def _run_lane(self, consumer: Any, lane: _Lane) -> None:
        while not self._stop.is_set():
            lane.wake.wait(0.1)
            lane.wake.clear()
            try:
                self._deliver(consumer, lane, force=False)
            except Exception:  # noqa: BLE001
                log.exception("stream lane error (%s)", consumer.name)

    def stop(self) -> None:
        self._stop.set()
        for mapping in self._mappings:
            for lane in mapping.lanes:
                lane.wake.set()
        for thread in self._threads:
            thread.join(timeout=5)

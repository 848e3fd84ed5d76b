"""A local stand-in for Kinesis Data Firehose delivery to the analytics store.

It speaks PutRecordBatch's shape (records of base64-free JSON lines, as API Gateway's mapping
template and EventBridge hand them), buffers like Firehose (flush at `buffer_records` or every
`buffer_seconds`) and writes Parquet with the store's schema and Hive layout
(livecommerce.analytics.parquet_store) under the local stack's state folder, so DuckDB reads what
Athena would. A flush that fails keeps its records for the next one (Firehose retries too).
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from livecommerce.analytics.parquet_store import write_records
from livecommerce.analytics.store_schema import BY_NAME, delivery_stream_name

_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,64}")   # Firehose's DeliveryStreamName constraint


class LocalFirehose:
    def __init__(self, root: str | Path, *, buffer_records: int = 5000, buffer_seconds: float = 5.0) -> None:
        self.root = Path(root)
        self.buffer_records = buffer_records
        self.buffer_seconds = buffer_seconds
        self._buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in BY_NAME}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def put_record_batch(self, stream: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        """stream: the table name. records: [{"Data": "<json>\\n"}] as PutRecordBatch takes them."""
        if stream not in self._buffers:
            raise LookupError(f"no delivery stream {stream!r}")
        rows = [json.loads(r["Data"]) for r in records]
        with self._lock:
            self._buffers[stream].extend(rows)
            full = len(self._buffers[stream]) >= self.buffer_records
        if full:
            self.flush(stream)
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": f"local-{i}"} for i in range(len(rows))]}

    def put_record_batch_request(self, request: dict[str, Any], *, prefix: str) -> tuple[int, dict[str, Any]]:
        """PutRecordBatch as the Firehose JSON API takes it (what API Gateway's AWS integration sends:
        DeliveryStreamName and Records with base64 Data) and answers it: (HTTP status, body), errors
        with `__type` as Firehose's JSON protocol gives them. Streams are named
        `<prefix>-analytics-<table>` (store_schema.delivery_stream_name)."""
        name, records = request.get("DeliveryStreamName"), request.get("Records")
        if not isinstance(name, str) or not _STREAM_NAME.fullmatch(name) or not isinstance(records, list) \
                or not 1 <= len(records) <= 500:
            return 400, {"__type": "ValidationException",
                         "message": "1 validation error detected: DeliveryStreamName or Records"}
        table = next((t for t in self._buffers if delivery_stream_name(prefix, t) == name), None)
        if table is None:
            return 400, {"__type": "ResourceNotFoundException", "message": f"Firehose {name} not found."}
        try:
            data = [{"Data": base64.b64decode(r["Data"], validate=True).decode("utf-8")} for r in records]
            self.put_record_batch(table, data)
        except (KeyError, TypeError, ValueError):
            return 400, {"__type": "InvalidArgumentException", "message": "a record is not a base64 JSON object"}
        return 200, {"FailedPutCount": 0, "Encrypted": False,
                     "RequestResponses": [{"RecordId": f"local-{i}"} for i in range(len(records))]}

    def flush(self, stream: str | None = None) -> int:
        written = 0
        for name in ([stream] if stream else list(self._buffers)):
            with self._lock:
                rows, self._buffers[name] = self._buffers[name], []
            if not rows:
                continue
            try:
                write_records(self.root, name, rows)
                written += len(rows)
            except Exception:
                with self._lock:
                    self._buffers[name][:0] = rows
                raise
        return written

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.buffer_seconds):
                try:
                    self.flush()
                except Exception:  # noqa: BLE001 - kept for the next flush; logged by the stack
                    time.sleep(self.buffer_seconds)

        self._thread = threading.Thread(target=loop, name="local-firehose", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        self.flush()

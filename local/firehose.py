"""A local stand-in for Kinesis Data Firehose delivery to the analytics store.

It speaks PutRecordBatch's shape (records of base64-free JSON lines, as API Gateway's mapping
template and EventBridge hand them), buffers like Firehose (flush at `buffer_records` or every
`buffer_seconds`) and writes Parquet with the store's schema and Hive layout
(livecommerce.analytics.parquet_store) under the local stack's state folder, so DuckDB reads what
Athena would. A flush that fails keeps its records for the next one (Firehose retries too).

The `events` stream has a transformation step on AWS (the events_transform Lambda over each
batch); here the same function (event_rows.firehose_transform) runs over each put: records it
refuses are kept in `failed` (Firehose's error output), the others are buffered as rows.
`serve()` answers Firehose's JSON protocol over HTTP, so functions reach the stand-in with their
real boto3 client (AWS_ENDPOINT_URL_FIREHOSE).
"""
from __future__ import annotations

import base64
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from livecommerce.analytics.event_rows import firehose_transform
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
        # The streams with a transformation step (cdk/stacks/analytics_stack.py TRANSFORMED).
        self.processors = {"events": firehose_transform}
        self.failed: list[dict[str, Any]] = []

    def put_record_batch(self, stream: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        """stream: the table name. records: [{"Data": "<json>\\n"}] as PutRecordBatch takes them."""
        if stream not in self._buffers:
            raise LookupError(f"no delivery stream {stream!r}")
        if stream in self.processors:
            rows = self._transform(stream, records)
        else:
            rows = [json.loads(r["Data"]) for r in records]
        with self._lock:
            self._buffers[stream].extend(rows)
            full = len(self._buffers[stream]) >= self.buffer_records
        if full:
            self.flush(stream)
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": f"local-{i}"} for i in range(len(records))]}

    def _transform(self, stream: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        def b64(data: Any) -> str:
            raw = data if isinstance(data, bytes) else str(data).encode()
            return base64.b64encode(raw).decode()

        answer = self.processors[stream]({"records": [{"recordId": str(i), "data": b64(r["Data"])}
                                                      for i, r in enumerate(records)]})
        rows = []
        for result in answer["records"]:
            if result["result"] == "Ok":
                rows.append(json.loads(base64.b64decode(result["data"])))
            else:
                with self._lock:
                    self.failed.append({"stream": stream, "data": result.get("data")})
        return rows

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


def serve(firehose: LocalFirehose, host: str, port: int, *, prefix: str) -> tuple[Any, str]:
    """Firehose's JSON API (PutRecordBatch, PutRecord) over HTTP for boto3 clients; (server, url)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            action = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
            try:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            except ValueError:
                request = None
            if not isinstance(request, dict):
                status, body = 400, {"__type": "SerializationException", "message": "not a JSON object"}
            elif action == "PutRecordBatch":
                status, body = firehose.put_record_batch_request(request, prefix=prefix)
            elif action == "PutRecord":
                record = request.get("Record")
                status, body = firehose.put_record_batch_request(
                    {"DeliveryStreamName": request.get("DeliveryStreamName"), "Records": [record]}, prefix=prefix)
                if status == 200:
                    body = {"RecordId": body["RequestResponses"][0]["RecordId"], "Encrypted": False}
            else:
                status, body = 400, {"__type": "UnknownOperationException", "message": action or "no X-Amz-Target"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="local-firehose-http", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"

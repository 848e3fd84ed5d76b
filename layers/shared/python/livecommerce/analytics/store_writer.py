"""Puts facts on the analytics `events` Firehose stream (PutRecordBatch), AWS and local alike.

The stream is named by ANALYTICS_EVENTS_STREAM (CDK sets it on functions with
`FunctionSpec.puts_analytics_events`, which also grants firehose:PutRecordBatch on that stream
only; the local stack points the Firehose endpoint at its stand-in). PutRecordBatch takes at most
500 records and 4 MiB a call and may refuse some records of a call (FailedPutCount, e.g.
throttling): those, and only those, are sent again with backoff; if some still fail, StoreWriteFailed
is raised, so the caller's batch is retried (rows carry stable event ids for that case).
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Iterable

from livecommerce.shared import aws

MAX_RECORDS = 500                 # PutRecordBatch: records per call
MAX_BYTES = 4 * 1024 * 1024       # PutRecordBatch: bytes per call
MAX_RECORD_BYTES = 1000 * 1024    # a record's data
ATTEMPTS = 4
_sleep: Callable[[float], None] = time.sleep


class StoreWriteFailed(RuntimeError):
    pass


def stream_name() -> str:
    name = os.environ.get("ANALYTICS_EVENTS_STREAM")
    if not name:
        raise StoreWriteFailed("ANALYTICS_EVENTS_STREAM is not set (FunctionSpec.puts_analytics_events)")
    return name


def chunks(datas: list[bytes]) -> list[list[bytes]]:
    """Split record payloads into PutRecordBatch calls (count and size limits)."""
    out: list[list[bytes]] = []
    current: list[bytes] = []
    size = 0
    for data in datas:
        if len(data) > MAX_RECORD_BYTES:
            raise ValueError(f"a record of {len(data)} bytes exceeds Firehose's {MAX_RECORD_BYTES}")
        if current and (len(current) == MAX_RECORDS or size + len(data) > MAX_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(data)
        size += len(data)
    if current:
        out.append(current)
    return out


def put_envelopes(envelopes: Iterable[dict[str, Any]]) -> int:
    """Put each envelope as one JSON line; how many PutRecordBatch calls it took."""
    datas = [(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n").encode() for e in envelopes]
    if not datas:
        return 0
    client, name, calls = aws.client("firehose"), stream_name(), 0
    for chunk in chunks(datas):
        pending = chunk
        for attempt in range(ATTEMPTS):
            calls += 1
            answer = client.put_record_batch(DeliveryStreamName=name, Records=[{"Data": d} for d in pending])
            if not answer.get("FailedPutCount"):
                break
            pending = [d for d, r in zip(pending, answer["RequestResponses"]) if r.get("ErrorCode")]
            if attempt + 1 < ATTEMPTS:
                _sleep(0.1 * 2 ** attempt)
        else:
            raise StoreWriteFailed(f"{len(pending)} records refused by {name} after {ATTEMPTS} attempts")
    return calls

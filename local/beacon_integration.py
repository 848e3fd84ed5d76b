"""The beacon route's integration, locally: what API Gateway does on AWS without a Lambda.

AWS (cdk/stacks/analytics_stack.py): request validator with the BeaconBatch JSON Schema ->
mapping template stamping request id, server time, viewer (authorizer context) and source IP,
refusing out-of-bounds times and heartbeat floods -> Firehose PutRecordBatch. Here the same
steps in-process: the pydantic model the schema is derived from, `beacons.records()` (the rules
the template applies), then the local Firehose stand-in. No function worker is involved.
Answers: 202 {"accepted": n}; 400 bad JSON; 413 too large; 422 problem+json, nothing counted.
"""
from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from livecommerce.analytics.beacons import BatchRejected, BeaconBatch, Stamp, records
from livecommerce.shared.problems import problem_body
from local.firehose import LocalFirehose

MAX_BODY_BYTES = 16 * 1024


def _problem(status: int, code: str, title: str, detail: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    return status, problem_body(status, code, title, detail, **extra)


def post_beacons(firehose: LocalFirehose, *, body: bytes | None, stamp: Stamp) -> tuple[int, dict[str, Any]]:
    if body is not None and len(body) > MAX_BODY_BYTES:
        return _problem(413, "payload_too_large", "Payload too large", f"at most {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError):
        return _problem(400, "invalid_json", "Bad request", "the body is not JSON")
    try:
        batch = BeaconBatch.model_validate(payload)
    except ValidationError as exc:
        fields = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return _problem(422, "validation_error", "Validation failed", "the batch does not match its schema",
                        errors=fields)
    try:
        rows = records(batch, stamp)
    except BatchRejected as exc:
        return _problem(422, "beacon_rejected", "Beacons rejected", exc.detail)
    firehose.put_record_batch("beacons", [{"Data": json.dumps(r) + "\n"} for r in rows])
    return 202, {"accepted": len(rows)}

"""Stored post-live reports in the exports bucket (EXPORTS_BUCKET):

    reports/<room_id>/report.json              the Report (written once: If-None-Match *), its metadata
                                               `computation` names the prefix of its parts:
    reports/<room_id>/<computation>/viewers.json.gz   its viewer rows (gzip JSON array)
    reports/<room_id>/<computation>/report.xlsx       its workbook (the /stats.xlsx link points here)
    reports/<room_id>/watch-times.json   marker: ViewerWatchTimes went out (chunks)
"""
from __future__ import annotations

import gzip
import json
import os
import uuid
from typing import Any

from livecommerce.analytics.report_models import Report, ViewerRow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RUN = "computation"          # report.json's metadata: the prefix of its rows and workbook


def _s3() -> Any:
    from livecommerce.shared import aws  # deferred: boto3, not paid at import

    return aws.client("s3")


def bucket() -> str:
    return os.environ["EXPORTS_BUCKET"]


def key(room_id: str, name: str) -> str:
    return f"reports/{room_id}/{name}"


def _get(name: str, room_id: str) -> bytes | None:
    s3 = _s3()
    try:
        return s3.get_object(Bucket=bucket(), Key=key(room_id, name))["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def save(report: Report, viewers: list[ViewerRow], workbook: bytes) -> bool:
    """Store a report unless one is stored already: True when this one is now the room's report.

    Each computation writes its viewer rows and workbook under a prefix of its own, then
    report.json with If-None-Match: * (S3's conditional write), which names that prefix: two
    computations racing (RoomEnded and a GET) store one report, whose rows and workbook are its own."""
    s3 = _s3()
    run = uuid.uuid4().hex
    rows = gzip.compress(json.dumps([v.model_dump(mode="json") for v in viewers],
                                    separators=(",", ":")).encode(), compresslevel=5)
    # the workbook and the rows first: a stored report.json means all three are there
    s3.put_object(Bucket=bucket(), Key=key(report.room_id, f"{run}/report.xlsx"), Body=workbook, ContentType=XLSX)
    s3.put_object(Bucket=bucket(), Key=key(report.room_id, f"{run}/viewers.json.gz"), Body=rows,
                  ContentType="application/json", ContentEncoding="gzip")
    try:
        s3.put_object(Bucket=bucket(), Key=key(report.room_id, "report.json"), Body=report.model_dump_json().encode(),
                      ContentType="application/json", IfNoneMatch="*", Metadata={RUN: run})
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
            return False          # this computation lost; its parts stay unreferenced (never read)
        raise
    return True


def _run_of(head: dict[str, Any]) -> str:
    return (head.get("Metadata") or {}).get(RUN, "")


def _part(room_id: str, run: str, name: str) -> str:
    return f"{run}/{name}" if run else name           # reports stored before per-computation parts


def load(room_id: str) -> tuple[Report, list[ViewerRow]] | None:
    s3 = _s3()
    try:
        stored = s3.get_object(Bucket=bucket(), Key=key(room_id, "report.json"))
    except s3.exceptions.NoSuchKey:
        return None
    body = stored["Body"].read()
    rows = _get(_part(room_id, _run_of(stored), "viewers.json.gz"), room_id)
    viewers = [ViewerRow.model_validate(r) for r in json.loads(gzip.decompress(rows))] if rows else []
    return Report.model_validate_json(body), viewers


def workbook_key(room_id: str) -> str | None:
    s3 = _s3()
    try:
        head = s3.head_object(Bucket=bucket(), Key=key(room_id, "report.json"))
    except s3.exceptions.ClientError:
        return None
    return key(room_id, _part(room_id, _run_of(head), "report.xlsx"))


def watch_times_published(room_id: str) -> bool:
    return _get("watch-times.json", room_id) is not None


def mark_watch_times_published(room_id: str, chunks: int) -> None:
    _s3().put_object(Bucket=bucket(), Key=key(room_id, "watch-times.json"),
                     Body=json.dumps({"chunks": chunks}).encode(), ContentType="application/json")

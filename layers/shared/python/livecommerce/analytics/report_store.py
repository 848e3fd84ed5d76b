"""Stored post-live reports in the exports bucket (EXPORTS_BUCKET):

    reports/<room_id>/report.json        the Report
    reports/<room_id>/viewers.json.gz    its viewer rows (gzip JSON array)
    reports/<room_id>/report.xlsx        its workbook (the /stats.xlsx link points here)
    reports/<room_id>/watch-times.json   marker: ViewerWatchTimes went out (chunks)
"""
from __future__ import annotations

import gzip
import json
import os
from typing import Any

from livecommerce.analytics.report_models import Report, ViewerRow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def save(report: Report, viewers: list[ViewerRow], workbook: bytes) -> None:
    s3 = _s3()
    rows = gzip.compress(json.dumps([v.model_dump(mode="json") for v in viewers],
                                    separators=(",", ":")).encode(), compresslevel=5)
    # the workbook and the rows first: a stored report.json means all three are there
    s3.put_object(Bucket=bucket(), Key=key(report.room_id, "report.xlsx"), Body=workbook, ContentType=XLSX)
    s3.put_object(Bucket=bucket(), Key=key(report.room_id, "viewers.json.gz"), Body=rows,
                  ContentType="application/json", ContentEncoding="gzip")
    s3.put_object(Bucket=bucket(), Key=key(report.room_id, "report.json"), Body=report.model_dump_json().encode(),
                  ContentType="application/json")


def load(room_id: str) -> tuple[Report, list[ViewerRow]] | None:
    body = _get("report.json", room_id)
    if body is None:
        return None
    rows = _get("viewers.json.gz", room_id)
    viewers = [ViewerRow.model_validate(r) for r in json.loads(gzip.decompress(rows))] if rows else []
    return Report.model_validate_json(body), viewers


def workbook_key(room_id: str) -> str | None:
    s3 = _s3()
    try:
        s3.head_object(Bucket=bucket(), Key=key(room_id, "report.json"))
    except s3.exceptions.ClientError:
        return None
    return key(room_id, "report.xlsx")


def watch_times_published(room_id: str) -> bool:
    return _get("watch-times.json", room_id) is not None


def mark_watch_times_published(room_id: str, chunks: int) -> None:
    _s3().put_object(Bucket=bucket(), Key=key(room_id, "watch-times.json"),
                     Body=json.dumps({"chunks": chunks}).encode(), ContentType="application/json")

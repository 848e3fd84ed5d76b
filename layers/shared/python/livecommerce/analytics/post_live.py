"""The post-live report computed when the room ends (RoomEnded), stored, and read at once.

On RoomEnded the post_live_report function waits until the store has caught up (the delivery
stream's buffer: REPORT_SETTLE_SECONDS after the end; CDK sets the Firehose buffer interval, the
local stack its stand-in's; unset: 0), computes the report once (reports.compute: the room's verdicts once, every
query over them), publishes ViewerWatchTimes (once per room), and stores the report, its viewer
rows and its workbook in the exports bucket (report_store). GET /stats, /viewers and /stats.xlsx
read the stored report; before it exists (a live room, or a report not stored yet) they compute it.
"""
from __future__ import annotations

import io
import os
import time
from datetime import datetime, timezone
from typing import Any, Callable

from livecommerce import rooms
from livecommerce.analytics import excel, report_store, reports
from livecommerce.analytics.events import WATCH_CHUNK, ViewerWatchTimes, WatchTime
from livecommerce.analytics.report_models import Report, ViewerRow
from livecommerce.rooms.events import RoomEnded
from livecommerce.shared import events as domain_events

DEFAULT_SETTLE_SECONDS = 0


def settle_seconds() -> float:
    return float(os.environ.get("REPORT_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


def watch_time_events(room_id: str, host_id: str, viewers: list[ViewerRow],
                      chunk_size: int = WATCH_CHUNK) -> list[ViewerWatchTimes]:
    """The ViewerWatchTimes chunks of a room (pure): accepted viewers with any watch time, by user id."""
    watched = sorted((v for v in viewers if v.watch_seconds > 0), key=lambda v: v.user_id)
    parts = [watched[i:i + chunk_size] for i in range(0, len(watched), chunk_size)]
    return [ViewerWatchTimes(event_id=f"watch-{room_id}-{n}", room_id=room_id, host_id=host_id, chunk=n,
                             chunks=len(parts),
                             viewers=[WatchTime(user_id=v.user_id, seconds=v.watch_seconds) for v in part])
            for n, part in enumerate(parts, start=1)]


def publish_watch_times(room_id: str, host_id: str, viewers: list[ViewerRow]) -> int:
    """Publish the room's ViewerWatchTimes once: after every chunk went out a marker is stored, and
    a later computation of the same room publishes nothing. A crash between the chunks and the
    marker re-publishes the same chunks with the same event ids (consumers keep applied ids)."""
    if report_store.watch_times_published(room_id):
        return 0
    chunks = watch_time_events(room_id, host_id, viewers)
    for event in chunks:
        domain_events.publish(event.detail_type, {**event.detail(), "event_id": event.event_id})
    report_store.mark_watch_times_published(room_id, len(chunks))
    return len(chunks)


def compute_and_store(room_id: str, host_id: str, *, title: str = "") -> tuple[Report, list[ViewerRow], int]:
    report, viewers = reports.compute(room_id, host_id, title=title)
    published = publish_watch_times(room_id, host_id, viewers) if report.ended_at else 0
    out = io.BytesIO()
    excel.write_workbook(report, viewers, out)
    report_store.save(report, viewers, out.getvalue())
    return report, viewers, published


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp()


def on_room_ended(detail: dict[str, Any], *, now: Callable[[], float] = time.time,
                  sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    ended = RoomEnded.parse(detail)
    assert isinstance(ended, RoomEnded)
    ended_at = _epoch(ended.occurred_at) or now()
    wait = ended_at + settle_seconds() - now()
    if wait > 0:
        sleep(min(wait, settle_seconds()))
    title = rooms.room_title(ended.room_id) or ""
    started = time.perf_counter()
    report, viewers, published = compute_and_store(ended.room_id, ended.host_id, title=title)
    return {"room_id": ended.room_id, "viewers": len(viewers), "watch_time_events": published,
            "seconds": round(time.perf_counter() - started, 3)}

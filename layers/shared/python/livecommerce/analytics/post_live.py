"""The post-live report computed when the room ends (RoomEnded), stored, and read at once.

On RoomEnded the post_live_report function waits until the store has caught up with the end
(`wait_for_store`: the room's RoomEnded row has landed in the events table and a beacon received
after the end in the beacons table, polled every STORE_POLL_SECONDS), at most
REPORT_SETTLE_SECONDS after the end (the bound: Firehose's end-to-end delay, 1.5 x its buffer
interval with dynamic partitioning; CDK: 15 s buffers, 23 s; the local stack: its stand-in's 5 s;
unset: 0, no wait), then computes the report once (reports.compute: the room's verdicts once, every
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
from livecommerce.analytics import excel, product_room_index, queries, report_store, reports
from livecommerce.analytics.events import WATCH_CHUNK, ViewerWatchTimes, WatchTime
from livecommerce.analytics.report_models import Report, ViewerRow
from livecommerce.interaction.spec import SPEC as INTERACTION_SPEC
from livecommerce.rooms.events import RoomEnded
from livecommerce.shared import events as domain_events

DEFAULT_SETTLE_SECONDS = 0
STORE_POLL_SECONDS = 2.0


def _epoch_of(value: Any) -> float | None:
    """A timestamp from either engine (DuckDB: a naive UTC datetime; Athena: its text) in epoch seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    text = str(value).strip().replace(" ", "T", 1)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", ""))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def store_caught_up(room_id: str, ended_at: float, *, run: Callable[..., list[dict[str, Any]]] | None = None) -> bool:
    """The store holds the room's RoomEnded row and a beacon of the room received at or after the end."""
    rows = (run or queries.run)("report_store_progress", room_id=room_id)
    if not rows:
        return False
    last_beacon = _epoch_of(rows[0].get("last_beacon_at"))
    return int(rows[0].get("room_ended_rows") or 0) > 0 and last_beacon is not None and last_beacon >= ended_at - 1


def wait_for_store(room_id: str, ended_at: float, *, bound: float, now: Callable[[], float] = time.time,
                   sleep: Callable[[float], None] = time.sleep,
                   caught_up: Callable[[str, float], bool] = store_caught_up, earliest: float | None = None) -> str:
    """Wait until the store has caught up with the room's end (probed from `earliest` on, the end by
    default), or until `bound` seconds after the end, whichever comes first: "caught_up" or "bound".
    Never longer than the bound from the call."""
    deadline = min(ended_at + bound, now() + bound)
    start = ended_at if earliest is None else min(earliest, deadline)
    if now() < start:
        sleep(start - now())
    while True:
        try:
            if caught_up(room_id, ended_at):
                return "caught_up"
        except Exception:  # noqa: BLE001 - a failed probe is no reason not to report: wait for the bound
            pass
        left = deadline - now()
        if left <= 0:
            return "bound"
        sleep(min(STORE_POLL_SECONDS, left))


def settle_seconds() -> float:
    return float(os.environ.get("REPORT_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


def facts_window_seconds() -> float:
    """Likes and danmaku reach the store's events stream through the interaction table's stream in
    batches (interaction's StoreFacts consumer): one that happened just before the end is put up to
    this many seconds after it, and then has Firehose's delay ahead of it like any other row."""
    return float(next(c.batching_window_seconds for c in INTERACTION_SPEC.stream_consumers if c.name == "StoreFacts"))


def settle_window(ended_at: float) -> tuple[float, float]:
    """(earliest, latest) moments the report of a room that ended at `ended_at` may be computed.
    Latest: every row of the room has landed by then whatever the probe says (the facts' batching
    window, then Firehose's bound REPORT_SETTLE_SECONDS). Earliest: the last facts batch has been put
    and one buffer interval (the bound / 1.5) has passed, so it has been flushed unless Firehose runs
    late, which the probe of the store then shows. Unset bound (tests): (end, end)."""
    bound = settle_seconds()
    if bound <= 0:
        return ended_at, ended_at
    window = facts_window_seconds()
    return ended_at + window + bound / 1.5, ended_at + window + bound


def report_ready(room_id: str, ended_at: float, *, now: float | None = None,
                 caught_up: Callable[[str, float], bool] = store_caught_up) -> bool:
    """May the report of this ended room be computed and stored now (GET /stats and RoomEnded alike)?
    After the latest moment, yes; before the earliest, no; in between when the store has caught up."""
    at = time.time() if now is None else now
    earliest, latest = settle_window(ended_at)
    if at >= latest:
        return True
    if at < earliest:
        return False
    try:
        return caught_up(room_id, ended_at)
    except Exception:  # noqa: BLE001 - a failed probe: wait for the bound
        return False


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
    """The room's stored report, computed and stored when there is none. The RoomEnded path and a
    GET may get here at once: the store takes the first report only (a conditional write), the other
    computation reads that one back, and ViewerWatchTimes go out from the stored viewer rows only,
    so both paths see one report and publish the same chunks (once, after the marker)."""
    stored = report_store.load(room_id)
    if stored is None:
        room = rooms.get_room(room_id)
        report, viewers = reports.compute(room_id, host_id, title=title, host_room_ids=rooms.room_ids_of_host(
            host_id, before=room.scheduled_start if room else None))
        out = io.BytesIO()
        excel.write_workbook(report, viewers, out)
        stored = (report, viewers) if report_store.save(report, viewers, out.getvalue()) else None
        if stored is None:                       # another computation stored first: that one is the report
            stored = report_store.load(room_id)
            assert stored is not None, "a report was stored first, and is not readable"
    report, viewers = stored
    published = publish_watch_times(room_id, host_id, viewers) if report.ended_at else 0
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
    earliest, latest = settle_window(ended_at)
    settled = (wait_for_store(ended.room_id, ended_at, bound=latest - ended_at, now=now, sleep=sleep,
                              earliest=earliest)
               if settle_seconds() > 0 else "no_wait")
    waited = max(0.0, now() - ended_at)
    title = rooms.room_title(ended.room_id) or ""
    started = time.perf_counter()
    report, viewers, published = compute_and_store(ended.room_id, ended.host_id, title=title)
    # Every product with figures in the session is filed under the room in the product-room index,
    # from the store's own rows: a session whose presenting event never reached the index (a
    # delivery dead-lettered, a path that records no preset) still counts in the product's stats.
    # The same puts as the events' (repeats change nothing); a failure fails the invocation, and its
    # retry finds the stored report and writes them again.
    indexed = product_room_index.record_pairs((ended.room_id, row.product_id) for row in report.products)
    return {"room_id": ended.room_id, "viewers": len(viewers), "watch_time_events": published,
            "products_indexed": indexed,
            "settled": settled, "waited_seconds": round(waited, 3), "seconds": round(time.perf_counter() - started, 3)}

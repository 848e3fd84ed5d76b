"""The report routes' use cases: who may read what, and the export (deferred imports: AWS)."""
from __future__ import annotations

import io
import math
import os
import re
import time
from datetime import datetime, timezone

from livecommerce import rooms
from livecommerce.analytics import excel, live, post_live, product_room_index, queries, report_store, reports
from livecommerce.analytics.live_models import LiveStats
from livecommerce.analytics.report_models import Comparison, ExportLink, ProductStats, Report, ViewerPage
from livecommerce.analytics.tags import TAGS
from livecommerce.shared import ids, paging, problems
from livecommerce.shared.api import Caller

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
MAX_COMPARED = 10
EXPORT_LINK_SECONDS = 300
VIEWERS = paging.listing("room_viewers", key_attributes=("list", "after"), partition_attribute="list")


def report(caller: Caller, room_id: str) -> tuple[Report, list]:
    room = rooms.require_room_host(caller, room_id)      # 404 a test room they do not run, 403 another's
    return _report_of(room)


def _report_of(room: rooms.RoomRef) -> tuple[Report, list]:
    """The stored report (computed on RoomEnded, analytics.post_live). Before there is one: a live
    room's is computed now (not stored: it changes every minute); an ended room's is computed and
    stored once the store has caught up with the end (post_live.report_ready: the same rule the
    RoomEnded path waits for), and until then the answer is 409 report_not_ready with a Retry-After
    (a report computed earlier could miss the last beacons, likes and events, and it is stored and
    its ViewerWatchTimes published once)."""
    stored = report_store.load(room.room_id)
    if stored is not None:
        return stored
    if room.status == "ended":
        ended_at = _epoch(room.ended_at)        # unknown (a room ended before rooms kept it): long settled
        if ended_at is not None and not post_live.report_ready(room.room_id, ended_at):
            _, latest = post_live.settle_window(ended_at)
            retry = max(1, min(math.ceil(latest - time.time()), math.ceil(post_live.STORE_POLL_SECONDS)))
            raise problems.Conflict(
                "the room has ended and its report is being prepared: the store is catching up with the end",
                code="report_not_ready", title="Report not ready", headers={"Retry-After": str(retry)})
        result, viewer_rows, _ = post_live.compute_and_store(room.room_id, room.host_id,
                                                             title=rooms.room_title(room.room_id) or "")
        return result, viewer_rows
    return reports.compute(room.room_id, room.host_id,
                           host_room_ids=rooms.room_ids_of_host(room.host_id, before=room.scheduled_start))


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp()


def live_stats(caller: Caller, room_id: str) -> LiveStats:
    # the host, operators, and the room's assistants (every assistant moderates: "moderate")
    room = rooms.require_room_staff(caller, room_id, "moderate")
    return live.live_stats(room.room_id)


def viewers(caller: Caller, room_id: str, tag: str | None, limit: int, cursor: str | None) -> ViewerPage:
    if tag is not None and tag not in TAGS:
        raise problems.ValidationFailed(f"tag: one of {', '.join(TAGS)}", code="unknown_tag",
                                        errors=[{"field": "query.tag", "message": "unknown tag", "type": "enum"}])
    room = rooms.require_room_host(caller, room_id)
    partition = f"{room.room_id}|{tag or '*'}"
    start = paging.decode(cursor, VIEWERS, partition=partition, owner=caller.user_id)
    after = start["after"]["S"] if start else ""
    _, rows = _report_of(room)
    rows = [r for r in rows if r.user_id > after and (tag is None or tag in r.tags)]
    page, more = rows[:limit], len(rows) > limit
    next_key = {"list": {"S": partition}, "after": {"S": page[-1].user_id}} if more else None
    return ViewerPage(items=page, cursor=paging.encode(next_key, VIEWERS, partition=partition, owner=caller.user_id))


def _ids(param: str, name: str, code: str) -> list[str]:
    ids_ = [r.strip() for r in param.split(",") if r.strip()]
    if not 2 <= len(ids_) <= MAX_COMPARED or len(set(ids_)) != len(ids_) or not all(ULID.match(n) for n in ids_):
        raise problems.ValidationFailed(
            f"{name}: 2 to {MAX_COMPARED} different ids (ULIDs), comma-separated", code=code,
            errors=[{"field": f"query.{name}", "message": "2 to 10 different ids", "type": "value_error"}])
    return ids_


def compare(caller: Caller, rooms_param: str | None, products_param: str | None = None) -> Comparison:
    """Sessions (?rooms=) or products (?products=) side by side: exactly one of the two."""
    if (rooms_param is None) == (products_param is None):
        raise problems.ValidationFailed("give either rooms or products", code="invalid_comparison",
                                        errors=[{"field": "query", "message": "rooms or products, not both",
                                                 "type": "value_error"}])
    if products_param is not None:
        return reports.compare_products([reports.product_totals(p, _all_product_sessions(caller, p))
                                         for p in _ids(products_param, "products", "invalid_products")])
    names = [r.strip() for r in rooms_param.split(",") if r.strip()]  # type: ignore[union-attr]
    if not 2 <= len(names) <= MAX_COMPARED or len(set(names)) != len(names) or not all(ULID.match(n) for n in names):
        raise problems.ValidationFailed(
            f"rooms: 2 to {MAX_COMPARED} different room ids (ULIDs), comma-separated", code="invalid_rooms",
            errors=[{"field": "query.rooms", "message": "2 to 10 different room ids", "type": "value_error"}])
    return reports.compare([report(caller, name)[0] for name in names])


# A product's sessions (analytics.product_rooms): the rooms come from analytics' own index of the rooms
# that presented the product, a host's own or (operators) every room. GET /v1/products/{id}/stats reads
# one page of rooms per request (one store query; the answer's cursor names the next); a product
# comparison pages through all of each product's rooms, QUERY_ROOMS at a time (one query each).
PRODUCT_ROOMS_PER_PAGE = 200
QUERY_ROOMS = queries.MAX_LIST


def product_stats(caller: Caller, product_id: str, limit: int = PRODUCT_ROOMS_PER_PAGE,
                  cursor: str | None = None) -> ProductStats:
    room_ids, next_cursor = product_room_index.page(product_id, user_id=caller.user_id, roles=caller.roles,
                                                    limit=limit, cursor=cursor)
    sessions = reports.product_sessions(product_id, room_ids) if room_ids else []
    return ProductStats(product_id=product_id, sessions=sessions, cursor=next_cursor)


def _all_product_sessions(caller: Caller, product_id: str) -> list:
    sessions: list = []
    for room_ids in product_room_index.all_rooms(product_id, user_id=caller.user_id, roles=caller.roles,
                                                 page_size=QUERY_ROOMS):
        sessions += reports.product_sessions(product_id, room_ids)
    return sessions


def export(caller: Caller, room_id: str) -> ExportLink:
    """The workbook in the exports bucket and a presigned link to it (a large workbook does not
    fit in a Lambda answer)."""
    from livecommerce.shared import aws  # deferred: boto3, not paid at import

    result, viewer_rows = report(caller, room_id)
    s3 = aws.client("s3")
    bucket = os.environ["EXPORTS_BUCKET"]
    key = report_store.workbook_key(result.room_id)     # the stored report's workbook, written with it
    if key is None:
        out = io.BytesIO()
        excel.write_workbook(result, viewer_rows, out)
        key = f"exports/{result.room_id}/{ids.new_ulid()}.xlsx"
        s3.put_object(Bucket=bucket, Key=key, Body=out.getvalue(), ContentType=report_store.XLSX)
    url = s3.generate_presigned_url("get_object", ExpiresIn=EXPORT_LINK_SECONDS, Params={
        "Bucket": bucket, "Key": key,
        "ResponseContentDisposition": f'attachment; filename="room-{result.room_id}-stats.xlsx"'})
    return ExportLink(url=url, expires_in=EXPORT_LINK_SECONDS)

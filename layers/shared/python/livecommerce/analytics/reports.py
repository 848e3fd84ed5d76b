"""The post-live report, viewers with tags, comparisons and product stats (use cases).

Every figure comes from the SQL files in `sql/` (report_*.sql, product_sessions.sql) run by the
query port (livecommerce.analytics.queries: DuckDB locally and in tests, Athena on AWS), over
accepted traffic only (the fake-traffic views); this module puts the rows together with the pure
rules below (funnel, rates, median, per-product lines) and the tag rules (tags.py).
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from livecommerce.analytics import queries, room_scope
from livecommerce.analytics.report_models import (Comparison, Funnel, Minute, ProductRow, ProductSession,
                                                  ProductTotals, Report, Summary, Traffic, ViewerRow)
from livecommerce.analytics.tags import ViewerFacts, tags_of

SUMMARY_FIGURES = tuple(name for name, field in Summary.model_fields.items() if field.annotation is int)


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def median(values: list[int]) -> int:
    """The median, rounded down (0 for none)."""
    if not values:
        return 0
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) // 2


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        utc = value if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def viewer_rows(facts_rows: Iterable[dict[str, Any]]) -> list[ViewerRow]:
    rows = []
    for r in facts_rows:
        facts = ViewerFacts(watch_seconds=int(r["watch_seconds"]), product_clicks=int(r["product_clicks"]),
                            orders=int(r["orders"]), paid_orders=int(r["paid_orders"]),
                            coupon_orders=int(r["coupon_orders"]), lottery_entries=int(r["lottery_entries"]),
                            earlier_sessions_watched=int(r["earlier_sessions_watched"]),
                            earlier_paid_orders=int(r["earlier_paid_orders"]))
        rows.append(ViewerRow(user_id=r["viewer_id"], watch_seconds=facts.watch_seconds,
                              product_clicks=facts.product_clicks, orders=facts.orders,
                              paid_orders=facts.paid_orders, amount=int(r["amount"]),
                              coupons_used=facts.coupon_orders, tags=tags_of(facts)))
    return rows


def product_rows(beacon_rows: Iterable[dict[str, Any]], paid_orders: Iterable[dict[str, Any]]) -> list[ProductRow]:
    """Per product: impressions and clicks (beacons), paid orders, units and fen from the paid
    orders' lines (line price times units, before order-level coupon discounts)."""
    seen: dict[str, dict[str, int]] = defaultdict(lambda: {"impressions": 0, "clicks": 0, "orders": 0, "units": 0,
                                                           "gmv": 0})
    for r in beacon_rows:
        seen[r["product_id"]]["impressions"] += int(r["impressions"])
        seen[r["product_id"]]["clicks"] += int(r["clicks"])
    for order in paid_orders:
        lines = json.loads(order["detail"]).get("lines") or []
        products_in_order = set()
        for line in lines:
            p = seen[line["product_id"]]
            p["units"] += int(line["quantity"])
            p["gmv"] += int(line["quantity"]) * int(line["unit_price"])
            products_in_order.add(line["product_id"])
        for product_id in products_in_order:
            seen[product_id]["orders"] += 1
    return [ProductRow(product_id=pid, click_to_buy_rate=rate(v["orders"], v["clicks"]), **v)
            for pid, v in sorted(seen.items())]


def compute(room_id: str, host_id: str, *, title: str = "", engine: queries.Engine | None = None,
            now: datetime | None = None, host_room_ids: Sequence[str] = ()) -> tuple[Report, list[ViewerRow]]:
    """The report of one room and its viewer rows, from the store: the room's fake-traffic
    verdicts are computed once (room_scope) and every report query reads them.
    `host_room_ids`: the host's rooms where earlier sessions are looked for (rooms.room_ids_of_host;
    none: no earlier sessions, so no viewer is a repeat viewer)."""
    with room_scope.open(room_id, engine) as scope:
        return _compute(scope, room_id, host_id, title=title, now=now, host_room_ids=host_room_ids)


def _compute(scope: room_scope.RoomScope, room_id: str, host_id: str, *, title: str,
             now: datetime | None, host_room_ids: Sequence[str] = ()) -> tuple[Report, list[ViewerRow]]:
    run = scope.run
    viewers = viewer_rows(run("report_viewer_facts", host_id=host_id, room_ids=queries.room_list(host_room_ids)))
    minutes = [Minute(minute=_iso(r["minute"]) or "", online=int(r["online"]), orders=int(r["orders"]),
                      gmv=int(r["gmv"]), danmaku=int(r["danmaku"]))
               for r in run("report_minutes")]
    events = {r["type"]: r for r in run("report_events", host_id=host_id)}
    totals = {r["kind"]: r for r in run("report_beacon_totals")}
    span = (run("report_span") or [{}])[0]
    products = product_rows(run("report_product_beacons"), run("report_paid_orders"))
    traffic_rows = run("report_traffic")

    def ev(kind: str, column: str = "accepted_count") -> int:
        return int((events.get(kind) or {}).get(column) or 0)

    def beacons_of(kind: str, column: str) -> int:
        return int((totals.get(kind) or {}).get(column) or 0)

    watch = [v.watch_seconds for v in viewers]
    peak = max(minutes, key=lambda m: (m.online, [-ord(c) for c in m.minute]), default=None)
    paid_orders, gmv = ev("OrderPaid"), ev("OrderPaid", "accepted_fen")
    summary = Summary(
        unique_viewers=len(viewers), views=beacons_of("enter", "accepted_count"),
        average_watch_seconds=sum(watch) // len(watch) if watch else 0, median_watch_seconds=median(watch),
        peak_online=peak.online if peak else 0, peak_at=peak.minute if peak and peak.online else None,
        new_followers=ev("NewFollower", "accepted_users"), danmaku=ev("DanmakuSent"),
        likes=ev("LikesAdded", "accepted_units"), shares=beacons_of("share_click", "accepted_count"),
        card_impressions=beacons_of("card_impression", "accepted_count"),
        product_clicks=beacons_of("product_click", "accepted_count"),
        lottery_entrants=_lottery_entrants(run), orders=ev("OrderCreated"), paid_orders=paid_orders, gmv=gmv,
        average_order_value=gmv // paid_orders if paid_orders else 0,
        refunds=ev("OrderRefunded"), refund_amount=ev("OrderRefunded", "accepted_fen"))
    clickers = sum(1 for v in viewers if v.product_clicks)
    orderers = sum(1 for v in viewers if v.orders)
    payers = sum(1 for v in viewers if v.paid_orders)
    funnel = Funnel(viewers=len(viewers), clickers=clickers, orderers=orderers, payers=payers,
                    click_rate=rate(clickers, len(viewers)), order_rate=rate(orderers, clickers),
                    pay_rate=rate(payers, orderers), conversion_rate=rate(payers, len(viewers)))
    report = Report(room_id=room_id, host_id=host_id, title=title, started_at=_iso(span.get("started_at")),
                    ended_at=_iso(span.get("ended_at")), computed_at=_iso(now or datetime.now(timezone.utc)) or "",
                    summary=summary, funnel=funnel, per_minute=minutes, products=products,
                    traffic=traffic(traffic_rows, totals, events))
    return report, viewers


def _lottery_entrants(run: Any) -> int:
    # LotteryClosed carries each lottery's entrant count (entrants are pseudonyms by design).
    return sum(int(r["entrants"] or 0) for r in run("report_lottery_entrants"))


def traffic(rows: list[dict[str, Any]], totals: dict[str, dict[str, Any]],
            events: dict[str, dict[str, Any]]) -> Traffic:
    viewers = [r for r in rows if r["measure"] == "viewers"]
    likes = events.get("LikesAdded") or {}
    return Traffic(
        raw_viewers=sum(int(r["n"]) for r in viewers),
        accepted_viewers=sum(int(r["n"]) for r in viewers if r["reason"] is None),
        raw_views=int((totals.get("enter") or {}).get("raw_count") or 0),
        accepted_views=int((totals.get("enter") or {}).get("accepted_count") or 0),
        raw_beacons=sum(int(t["raw_count"]) for t in totals.values()),
        accepted_beacons=sum(int(t["accepted_count"] or 0) for t in totals.values()),
        raw_likes=int(likes.get("raw_units") or 0), accepted_likes=int(likes.get("accepted_units") or 0),
        excluded_viewers_by_reason={r["reason"]: int(r["n"]) for r in viewers if r["reason"] is not None})


def compare(reports: list[Report]) -> Comparison:
    """Sessions side by side: each later session's summary figures against the first's."""
    differences: list[dict[str, float | int | str | None]] = []
    if reports:
        base = reports[0].summary
        for report in reports[1:]:
            diff: dict[str, float | int | str | None] = {"room_id": report.room_id, "against": reports[0].room_id}
            for name in SUMMARY_FIGURES:
                before, after = getattr(base, name), getattr(report.summary, name)
                diff[name] = after - before
                diff[f"{name}_pct"] = round((after - before) / before, 4) if before else None
            differences.append(diff)
    return Comparison(rooms=reports, differences=differences)


def product_sessions(product_id: str, room_ids: Sequence[str], *,
                     engine: queries.Engine | None = None) -> list[ProductSession]:
    """A product in every session among `room_ids` that showed or sold it (accepted traffic), oldest
    first (the caller's rooms: rooms.room_ids_of_host, the most recent 200)."""
    rows = queries.run("product_sessions", engine, product_id=product_id, room_ids=queries.room_list(room_ids))
    by_room: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_room.setdefault(r["room_id"], {"started_at": _iso(r["started_at"]), "impressions": 0,
                                                  "clicks": 0, "orders": 0, "units": 0, "gmv": 0})
        if r["source"] == "beacons":
            entry["impressions"] += int(r["impressions"] or 0)
            entry["clicks"] += int(r["clicks"] or 0)
        elif r["detail"]:
            lines = [line for line in json.loads(r["detail"]).get("lines") or [] if line["product_id"] == product_id]
            if lines:
                entry["orders"] += 1
                entry["units"] += sum(int(line["quantity"]) for line in lines)
                entry["gmv"] += sum(int(line["quantity"]) * int(line["unit_price"]) for line in lines)
    sessions = [ProductSession(room_id=room_id, click_to_buy_rate=rate(v["orders"], v["clicks"]), **v)
                for room_id, v in by_room.items() if v["impressions"] or v["clicks"] or v["orders"]]
    return sorted(sessions, key=lambda s: (s.started_at or "", s.room_id))


PRODUCT_FIGURES = ("sessions", "impressions", "clicks", "orders", "units", "gmv")


def product_totals(product_id: str, sessions: list[ProductSession]) -> ProductTotals:
    totals = {name: sum(getattr(x, name) for x in sessions) for name in PRODUCT_FIGURES[1:]}
    return ProductTotals(product_id=product_id, sessions=len(sessions),
                         click_to_buy_rate=rate(totals["orders"], totals["clicks"]), **totals)


def compare_products(products: list[ProductTotals]) -> Comparison:
    """Products side by side: each later product's totals against the first's."""
    differences: list[dict[str, float | int | str | None]] = []
    for product in products[1:]:
        diff: dict[str, float | int | str | None] = {"product_id": product.product_id,
                                                     "against": products[0].product_id}
        for name in (*PRODUCT_FIGURES, "click_to_buy_rate"):
            before, after = getattr(products[0], name), getattr(product, name)
            diff[name] = round(after - before, 4) if isinstance(after, float) else after - before
            diff[f"{name}_pct"] = round((after - before) / before, 4) if before else None
        differences.append(diff)
    return Comparison(products=products, differences=differences)

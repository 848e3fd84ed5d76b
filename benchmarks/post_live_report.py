"""Benchmark: the post-live report of a 2-hour session of 100,000 viewers (issue 11, outcome 10).

    .venv/bin/python benchmarks/post_live_report.py [--viewers 100000] [--minutes 120] [--fake 0.1]

Synthesizes the session (benchmarks/report_traffic.py: real viewers with heartbeats every 30 s,
cards, clicks, orders, payments, coupons, danmaku, likes, an earlier session of the host, and
fake traffic of four kinds) into the analytics store's Parquet layout in a temporary folder,
then times the full report (every SQL file through embedded DuckDB, as the local stack runs them)
and the Excel workbook, and checks every figure against the generator's truth. Goal: report in
under 60 s, figures exact, fake traffic fully excluded. Exits 1 when a figure is not exact.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "shared" / "python"), str(ROOT)]

from benchmarks.report_traffic import synthesize  # noqa: E402
from livecommerce.analytics import excel, queries, reports  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=100_000)
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--fake", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        truth = synthesize(root, viewers=args.viewers, minutes=args.minutes, fake_share=args.fake)
        size = sum(p.stat().st_size for p in Path(root).rglob("*.parquet"))
        print(f"synthesized {truth['raw_viewers']:,} viewers ({args.fake:.0%} fake), {truth['beacons']:,} beacons, "
              f"{size / 1e6:.1f} MB Parquet in {time.perf_counter() - started:.1f} s")
        engine = queries.DuckDbEngine(root)
        started = time.perf_counter()
        report, viewers = reports.compute(truth["room_id"], truth["host_id"], engine=engine)
        report_s = time.perf_counter() - started
        started = time.perf_counter()
        out = io.BytesIO()
        excel.write_workbook(report, viewers, out)
        excel_s = time.perf_counter() - started
        print(f"report: {report_s:.1f} s   Excel: {excel_s:.1f} s ({len(out.getvalue()) / 1e6:.1f} MB, "
              f"{len(viewers):,} viewer rows)   total {report_s + excel_s:.1f} s (goal < 60 s)")
        return check(report, viewers, truth)


def check(report, viewers, truth) -> int:
    s, f, t = report.summary, report.funnel, report.traffic
    watch = {v.user_id: v.watch_seconds for v in viewers}
    per_minute = {m.minute[11:16]: m for m in report.per_minute}
    minute_ok = all(
        (per_minute[f"{12 + m // 60:02d}:{m % 60:02d}"].online == truth["online"][m]
         and per_minute[f"{12 + m // 60:02d}:{m % 60:02d}"].orders == truth["per_minute"][m]["orders"]
         and per_minute[f"{12 + m // 60:02d}:{m % 60:02d}"].gmv == truth["per_minute"][m]["gmv"]
         and per_minute[f"{12 + m // 60:02d}:{m % 60:02d}"].danmaku == truth["per_minute"][m]["danmaku"])
        for m in range(truth["minutes"] + 1) if truth["online"][m] or truth["per_minute"][m:m + 1])
    products = {p.product_id: p for p in report.products}
    product_ok = all(products[pid].orders == v["orders"] and products[pid].units == v["units"]
                     and products[pid].gmv == v["gmv"] for pid, v in truth["products"].items()) and all(
        products[pid].clicks == n for pid, n in truth["clicks"].items()) and all(
        products[pid].impressions == n for pid, n in truth["impressions"].items())
    tags = {tag: sum(tag in v.tags for v in viewers) for tag in ("buyer", "repeat_buyer", "coupon_user",
                                                                "first_time_viewer")}
    checks = {
        "unique viewers": (s.unique_viewers, truth["unique_viewers"]),
        "views": (s.views, truth["views"]),
        "average watch (s)": (s.average_watch_seconds, truth["watch_total"] // truth["unique_viewers"]),
        "median watch (s)": (s.median_watch_seconds, truth["median_watch"]),
        "every viewer's watch time": (watch == truth["watch"], True),
        "peak online": (s.peak_online, truth["peak_online"]),
        "shares": (s.shares, truth["shares"]), "card impressions": (s.card_impressions, truth["card_impressions"]),
        "product clicks": (s.product_clicks, truth["product_clicks"]),
        "orders": (s.orders, truth["orders"]), "paid orders": (s.paid_orders, truth["paid_orders"]),
        "GMV (fen)": (s.gmv, truth["gmv"]), "danmaku": (s.danmaku, truth["danmaku"]),
        "likes accepted / raw": ((t.accepted_likes, t.raw_likes), (truth["likes"], truth["raw_likes"])),
        "funnel": ((f.viewers, f.clickers, f.orderers, f.payers),
                   (truth["unique_viewers"], truth["clickers"], truth["orderers"], truth["payers"])),
        "per minute (online, orders, GMV, danmaku)": (minute_ok, True),
        "per product (impressions, clicks, orders, units, GMV)": (product_ok, True),
        "excluded viewers by reason": (t.excluded_viewers_by_reason, truth["excluded"]),
        "raw / accepted viewers": ((t.raw_viewers, t.accepted_viewers), (truth["raw_viewers"], truth["unique_viewers"])),
        "tags buyer / repeat / coupon / first-time": (
            tuple(tags.values()), (truth["payers"], truth["repeat_buyers"], truth["coupon_users"], truth["first_time"])),
    }
    wrong = 0
    for name, (got, want) in checks.items():
        ok = got == want
        wrong += not ok
        print(f"  {'exact' if ok else 'WRONG'}  {name}: {got if not isinstance(got, bool) else ''}"
              + ("" if ok else f" (truth {want})"))
    print("figures exact, fake traffic fully excluded" if not wrong else f"{wrong} figures wrong")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())

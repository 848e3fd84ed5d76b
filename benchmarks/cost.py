"""Backend cost per 1,000 viewer-hours, next to IVS's video delivery cost for the same viewers.

1. Measures what each action costs in AWS operations: benchmarks/cost_session.py runs a scripted
   session (a live room; viewers entering, danmaku, likes, a flash sale and its orders, a card
   listed) through the real handlers on moto in process, counting every AWS call with a botocore
   hook (benchmarks/meter.py: DynamoDB units from item sizes, IoT publishes, EventBridge events,
   S3, Firehose bytes), every API Gateway request and every function invocation with its measured
   seconds x its configured memory (GB-seconds). In process rather than through `make local`: the
   hook must see the functions' own botocore calls, and the per-action figures do not depend on
   the crowd's size (the crowd only multiplies them, below).
2. Multiplies them by a viewer-hour profile (PROFILE: how often a viewer does each thing in an
   hour, and what reaches viewers per hour: the crowd's danmaku and likes by push or by polled edge
   batches, rare pushes, beacons, the report), and prices the result with benchmarks/prices.py.
   Lambda seconds on moto are longer than on AWS: the GB-seconds here are an upper bound.

    .venv/bin/python benchmarks/cost.py [--repeat 5]

Goal: backend cost under 10 % of the video cost. Prints what dominates.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
from benchmarks.prices import PRICES, REGION, price  # noqa: E402

GOAL = 0.10
# Per viewer-hour: measured actions (count per viewer-hour), by the names of cost_session.py.
PROFILE_ACTIONS = {
    "enter_my_coupons": 1.0,          # the per-viewer call on entering (the snapshot itself: CloudFront)
    "danmaku": 3.0,                    # most viewers lurk: ~5 % send a message a minute
    "like": 12.0,                      # likes batched by the client: at most one request per 5 s while tapping
    "flash_buy": 0.05,                 # 5 % of viewers buy in a flash sale each hour
    "card_listing": 20 / 1000,         # the host lists 20 cards an hour, for a room of ~1,000 viewers
}
# Per viewer-hour: what is modelled, not measured here (the figures of docs/realtime.md,
# docs/analytics.md and docs/scale.md, H2's room entry and read diffusion).
SNAPSHOT_ORIGIN_PER_ROOM_HOUR = 2 * 3600 / 1000   # <= 1 origin fetch per TTL per edge, ~2 edges: per viewer at 1,000
ENTRIES_PER_VIEWER_HOUR = 1.0                      # snapshot GETs answered by CloudFront
BEACON_REQUESTS = 15.0                             # ~4 beacons a minute, in batches of 16 per request (60 beacons)
BEACON_RECORDS = 60.0                              # each a Firehose record, billed as 5 KB
CONNECTION_MINUTES = 60.0
RARE_PUSHES = 120.0                                # cards, flash-sale steps, lottery, own echoes: ~2 a minute
PUSH_CROWD_DELIVERIES = 5.5 * 3600                 # danmaku batches + like totals by push (docs/realtime.md)
POLL_REQUESTS = 3600.0                             # read diffusion: one edge batch a second
POLL_BYTES = 3600 * 2 * 1024                       # ~2 KB compressed per answer
REPORT_BYTES_PER_VIEWER_HOUR = 200 * 1024          # the post-live report's Athena scan (Parquet, room partition)
SFN_TRANSITIONS_PER_VIEWER_HOUR = 0.05             # reminders and post-live workflows, per room (~20 transitions)


def measure(repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cost.json"
        env = dict(os.environ, COST_OUT=str(out), COST_REPEAT=str(repeat))
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p",
                              "tests.integration.commerce_fixtures", "benchmarks/cost_session.py", "--rootdir", str(ROOT),
                              "-p", "no:cacheprovider", "-W", "ignore"], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=900)
        if run.returncode != 0 or not out.exists():
            raise SystemExit("the scripted session failed:\n" + run.stdout[-3000:] + run.stderr[-3000:])
        return json.loads(out.read_text())


def action_cost(usage: dict) -> dict[str, float]:
    """USD by service for one action."""
    calls = usage["calls"]
    return {
        "API Gateway": usage["api_requests"] * price("apigw_request"),
        "Lambda": usage["lambda_requests"] * price("lambda_request") + usage["lambda_gb_seconds"] * price(
            "lambda_gb_second"),
        "DynamoDB": usage["wcu"] * price("dynamodb_wru") + usage["rcu"] * price("dynamodb_rru"),
        "IoT Core": usage["iot_publishes"] * price("iot_message"),
        "EventBridge": usage["eventbridge_events"] * price("eventbridge_event"),
        "S3": usage["s3_requests"] * price("s3_put"),
        "Firehose": max(usage["firehose_bytes"], 0) / 1e9 * price("firehose_gb"),
        "_calls": sum(calls.values()),
    }


def per_thousand_viewer_hours(actions: dict, crowd: str, poll_seconds: float = 1.0) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for name, per_hour in PROFILE_ACTIONS.items():
        for service, usd in action_cost(actions[name]).items():
            if not service.startswith("_"):
                total[service] += usd * per_hour * 1000
    origin = action_cost(actions["enter_snapshot_origin"])
    for service, usd in origin.items():
        if not service.startswith("_"):
            total[service] += usd * SNAPSHOT_ORIGIN_PER_ROOM_HOUR * 1000
    total["CloudFront"] += ENTRIES_PER_VIEWER_HOUR * 1000 * price("cloudfront_https_request")
    total["API Gateway"] += BEACON_REQUESTS * 1000 * price("apigw_request")
    total["Firehose"] += BEACON_RECORDS * 1000 * 5 * 1024 / 1e9 * price("firehose_gb")
    total["IoT Core"] += CONNECTION_MINUTES * 1000 * price("iot_connection_minute")
    total["IoT Core"] += RARE_PUSHES * 1000 * price("iot_message")
    if crowd == "push":
        total["IoT Core"] += PUSH_CROWD_DELIVERIES * 1000 * price("iot_message")
    else:
        total["CloudFront"] += POLL_REQUESTS / poll_seconds * 1000 * price("cloudfront_https_request")
        total["CloudFront"] += POLL_BYTES * 1000 / 1e9 * price("cloudfront_gb")
    total["Athena"] += REPORT_BYTES_PER_VIEWER_HOUR * 1000 / 1e12 * price("athena_tb")
    total["Step Functions"] += SFN_TRANSITIONS_PER_VIEWER_HOUR * 1000 * 20 * price("sfn_transition")
    return dict(total)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--from-json", help="per-action usage written by an earlier run (skips the session)")
    args = parser.parse_args()
    actions = json.loads(Path(args.from_json).read_text()) if args.from_json else measure(args.repeat)
    print(f"per action, measured through the real handlers on moto (mean of {args.repeat}):")
    print(f"{'action':<24}{'API':>5}{'fn':>5}{'GB-s':>8}{'AWS calls':>10}{'WCU':>6}{'RCU':>6}{'IoT':>5}{'events':>7}")
    for name, u in actions.items():
        print(f"{name:<24}{u['api_requests']:>5.1f}{u['lambda_requests']:>5.1f}{u['lambda_gb_seconds']:>8.3f}"
              f"{sum(u['calls'].values()):>10.1f}{u['wcu']:>6.1f}{u['rcu']:>6.1f}{u['iot_publishes']:>5.1f}"
              f"{u['eventbridge_events']:>7.1f}")
    from livecommerce.orders.sharding import ORDER_WRITE_UNITS   # deferred: after sys.path has the layer
    buy = actions["flash_buy"]
    print(f"flash-sale buy: measured {buy['wcu']:.1f} WCU per order, docs/commerce.md says "
          f"{sum(ORDER_WRITE_UNITS.values())} ({' + '.join(f'{k} {v}' for k, v in ORDER_WRITE_UNITS.items())}): "
          f"{'match' if abs(buy['wcu'] - sum(ORDER_WRITE_UNITS.values())) < 0.01 else 'DIFFER'}")
    video = 1000 * price("ivs_hd_output_hour")
    print(f"\nper 1,000 viewer-hours, {REGION} list prices (benchmarks/prices.py), profile in benchmarks/cost.py:")
    for crowd, every in (("push", 1.0), ("poll", 1.0), ("poll", 2.0)):
        costs = per_thousand_viewer_hours(actions, crowd, every)
        backend = sum(costs.values())
        ranked = sorted(costs.items(), key=lambda kv: -kv[1])
        how = "IoT Core push" if crowd == "push" else f"edge batches polled every {every:.0f} s"
        print(f"  crowd danmaku and likes by {how}: backend USD {backend:.2f} "
              f"= {backend / video:.1%} of IVS HD video USD {video:.2f} -> goal (< {GOAL:.0%}) "
              f"{'MET' if backend < GOAL * video else 'NOT MET'}")
        print("    " + ", ".join(f"{s} {usd:.2f}" for s, usd in ranked if usd >= 0.005))
        print(f"    dominated by {ranked[0][0]} ({ranked[0][1] / backend:.0%})")
    unchecked = [k for k, v in PRICES.items() if not v[3]]
    print(f"\nprices taken from us-east-1 as the stand-in for {REGION} (check the page): {', '.join(unchecked)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

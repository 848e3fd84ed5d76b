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

# The interaction settings' defaults are what every stage ships (cdk sets none of the delivery ones);
# reading them needs a stage name.
os.environ.setdefault("STAGE", "local")

GOAL = 0.10
# Per viewer-hour: measured actions (count per viewer-hour), by the names of cost_session.py.
PROFILE_ACTIONS = {
    "enter_my_coupons": 1.0,          # the per-viewer call on entering (the snapshot itself: CloudFront)
    "danmaku": 3.0,                    # most viewers lurk: ~5 % send a message a minute
    "like": 12.0,                      # likes batched by the client: at most one request per 5 s while tapping
    "flash_buy": 0.05,                 # 5 % of viewers buy in a flash sale each hour
}
# Per room-hour, whatever the audience (spread over its viewers below).
CARD_LISTINGS_PER_ROOM_HOUR = 20.0                 # the host lists 20 cards an hour
EDGES = 10                                         # edge locations refreshing one room's cached objects (an
#                                                    upper bound for one country; 1 with CloudFront Origin Shield)
EDGE_TTL_SECONDS = 1.0                             # snapshot and feed: at most one origin fetch per TTL per edge
# Per viewer-hour: what is modelled, not measured here (the figures of docs/realtime.md,
# docs/analytics.md and docs/scale.md, H2's room entry and read diffusion).
ENTRIES_PER_VIEWER_HOUR = 1.0                      # snapshot GETs answered by CloudFront
BEACON_REQUESTS = 15.0                             # ~4 beacons a minute, in batches of 16 per request (60 beacons)
BEACON_RECORDS = 60.0                              # each a Firehose record, billed as 5 KB
CONNECTION_MINUTES = 60.0                          # every viewer stays connected (events and private topics)
RARE_PUSHES = 120.0                                # cards, flash-sale steps, lottery, own echoes: ~2 a minute
POLL_BYTES = 3600 * 2 * 1024                       # ~2 KB compressed a second of batches, whatever the cadence
REPORT_BYTES_PER_VIEWER_HOUR = 200 * 1024          # the post-live report's Athena scan (Parquet, room partition)
SFN_TRANSITIONS_PER_VIEWER_HOUR = 0.05             # reminders and post-live workflows, per room (~20 transitions)
AUDIENCES = (100, 500, 800, 999, 1_000, 2_500, 5_000, 7_999, 9_999, 10_000, 100_000)


def push_deliveries_per_viewer_second(viewers: int) -> float:
    """What IoT Core delivers to each viewer of a push-mode room a second: danmaku batches (carrying the
    like total) and the separate like messages of quiet spells (the retained state/likes), by the rules
    the code follows (interaction.density.simulate_push: at most 5 a second together), for an hour of
    Poisson arrivals at the rates the room's viewers send them (PROFILE_ACTIONS)."""
    from livecommerce.interaction.density import expected_push_deliveries   # deferred: after sys.path has the layer
    from livecommerce.interaction.settings import get_interaction_settings   # deferred: likewise

    cfg = get_interaction_settings()
    danmaku = viewers * PROFILE_ACTIONS["danmaku"] / 3600
    likes = viewers * PROFILE_ACTIONS["like"] / 3600
    return sum(expected_push_deliveries(danmaku, likes, interval_ms=cfg.batch_interval_ms,
                                        idle_ms=cfg.like_broadcast_interval_ms))


def shipped(viewers: int) -> list[tuple[str, float]]:
    """Every delivery the server may ship for a room of `viewers` (settings defaults), through the
    hysteresis bands too: push below DANMAKU_POLL_ABOVE_VIEWERS on the way up, still poll down to
    `push_below` of it on the way down; in poll mode interaction.delivery.poll_interval's cadence,
    both cadences inside its band."""
    from livecommerce.interaction import delivery   # deferred: after sys.path has the layer
    from livecommerce.interaction.settings import get_interaction_settings   # deferred: likewise

    cfg = get_interaction_settings()
    found: list[tuple[str, float]] = []
    for state in (delivery.Audience(delivery.PUSH), delivery.Audience(delivery.POLL)):
        mode = delivery.follow(state, viewers, threshold=cfg.poll_above_viewers, now_ms=10**12).mode
        if mode == delivery.PUSH:
            found.append((mode, 0.0))
            continue
        for current in (cfg.poll_interval_ms, cfg.slow_poll_interval_ms):
            interval = delivery.poll_interval(viewers, current, fast_ms=cfg.poll_interval_ms,
                                              slow_ms=cfg.slow_poll_interval_ms, slow_from=cfg.slow_poll_from_viewers)
            found.append((mode, interval / 1000))
    return sorted(set(found))


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


def per_thousand_viewer_hours(actions: dict, viewers: int, crowd: str, poll_seconds: float = 1.0) -> dict[str, float]:
    """USD by service for 1,000 viewer-hours in a room of `viewers`, its crowd's danmaku and like
    totals delivered by `crowd` (push, or poll every `poll_seconds`)."""
    total: dict[str, float] = defaultdict(float)

    def add(action: str, per_viewer_hour: float) -> None:
        for service, usd in action_cost(actions[action]).items():
            if not service.startswith("_"):
                total[service] += usd * per_viewer_hour * 1000

    for name, per_hour in PROFILE_ACTIONS.items():
        add(name, per_hour)
    add("card_listing", CARD_LISTINGS_PER_ROOM_HOUR / viewers)
    # Origin fetches: at most one per TTL per edge, and never more than the viewers ask for.
    per_edge_hour = 3600 / EDGE_TTL_SECONDS
    add("enter_snapshot_origin", min(ENTRIES_PER_VIEWER_HOUR * viewers, EDGES * per_edge_hour) / viewers)
    total["CloudFront"] += ENTRIES_PER_VIEWER_HOUR * 1000 * price("cloudfront_https_request")
    total["API Gateway"] += BEACON_REQUESTS * 1000 * price("apigw_request")
    total["Firehose"] += BEACON_RECORDS * 1000 * 5 * 1024 / 1e9 * price("firehose_gb")
    total["IoT Core"] += CONNECTION_MINUTES * 1000 * price("iot_connection_minute")
    total["IoT Core"] += RARE_PUSHES * 1000 * price("iot_message")
    if crowd == "push":
        total["IoT Core"] += push_deliveries_per_viewer_second(viewers) * 3600 * 1000 * price("iot_message")
    else:
        polls = 3600 / poll_seconds
        total["CloudFront"] += polls * 1000 * price("cloudfront_https_request")
        total["CloudFront"] += POLL_BYTES * 1000 / 1e9 * price("cloudfront_gb")
        add("feed_origin", min(polls * viewers, EDGES * per_edge_hour) / viewers)
    total["Athena"] += REPORT_BYTES_PER_VIEWER_HOUR * 1000 / 1e12 * price("athena_tb")
    total["Step Functions"] += SFN_TRANSITIONS_PER_VIEWER_HOUR * 1000 * 20 * price("sfn_transition")
    return dict(total)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--from-json", help="per-action usage written by an earlier run (skips the session)")
    parser.add_argument("--save-json", help="write the measured per-action usage here (for --from-json)")
    parser.add_argument("--poll-above", type=int, help="what if: DANMAKU_POLL_ABOVE_VIEWERS (shipped: 1000)")
    parser.add_argument("--slow-from", type=int, help="what if: DANMAKU_SLOW_POLL_FROM_VIEWERS (shipped: 10000)")
    parser.add_argument("--poll-interval-ms", type=int, help="what if: DANMAKU_POLL_INTERVAL_MS (shipped: 1500)")
    parser.add_argument("--like-interval-ms", type=int, help="what if: LIKE_BROADCAST_INTERVAL_MS (shipped: 2000)")
    args = parser.parse_args()
    for flag, name in (("poll_above", "DANMAKU_POLL_ABOVE_VIEWERS"), ("slow_from", "DANMAKU_SLOW_POLL_FROM_VIEWERS"),
                       ("like_interval_ms", "LIKE_BROADCAST_INTERVAL_MS"),
                       ("poll_interval_ms", "DANMAKU_POLL_INTERVAL_MS")):
        if getattr(args, flag) is not None:
            os.environ[name] = str(getattr(args, flag))
    actions = json.loads(Path(args.from_json).read_text()) if args.from_json else measure(args.repeat)
    if args.save_json:
        Path(args.save_json).write_text(json.dumps(actions))
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
    print(f"\nper 1,000 viewer-hours, {REGION} list prices (benchmarks/prices.py), profile in benchmarks/cost.py;")
    what_if = any(getattr(args, f) is not None for f in ("poll_above", "slow_from", "like_interval_ms",
                                                          "poll_interval_ms"))
    print(f"the delivery {'WHAT IF (not shipped)' if what_if else 'the server ships'} by audience (interaction "
          f"settings), goal backend < {GOAL:.0%} "
          f"of IVS HD video (USD {video:.2f}):")
    print(f"  {'audience':>9}  {'mode':<5}{'interval':>9}{'push/viewer/s':>15}{'backend USD':>13}{'video USD':>11}"
          f"{'ratio':>8}  goal  dominated by")
    worst = 0.0
    for viewers in AUDIENCES:
        for mode, every in shipped(viewers):
            costs = per_thousand_viewer_hours(actions, viewers, mode, every or 1.0)
            backend = sum(costs.values())
            worst = max(worst, backend / video)
            top, usd = max(costs.items(), key=lambda kv: kv[1])
            deliveries = f"{push_deliveries_per_viewer_second(viewers):.2f}" if mode == "push" else "-"
            print(f"  {viewers:>9,}  {mode:<5}{(f'{every:g} s' if every else '-'):>9}{deliveries:>15}"
                  f"{backend:>13.2f}{video:>11.2f}{backend / video:>8.1%}  "
                  f"{'MET ' if backend < GOAL * video else 'NOT '}  {top} {usd / backend:.0%}")
    print(f"  (rows in a hysteresis band list each mode and cadence a room may be in there) worst {worst:.1%}: "
          f"goal {'MET at every room size' if worst < GOAL else 'NOT MET'}")
    print("\nthe alternatives for one room of 100,000 viewers:")
    for crowd, every in (("push", 1.0), ("poll", 1.0), ("poll", 1.5), ("poll", 2.0)):
        costs = per_thousand_viewer_hours(actions, 100_000, crowd, every)
        backend = sum(costs.values())
        ranked = sorted(costs.items(), key=lambda kv: -kv[1])
        how = "IoT Core push" if crowd == "push" else f"edge batches polled every {every:g} s"
        print(f"  crowd danmaku and likes by {how}: backend USD {backend:.2f} = {backend / video:.1%} of video "
              f"-> goal {'MET' if backend < GOAL * video else 'NOT MET'}")
        print("    " + ", ".join(f"{s} {usd:.2f}" for s, usd in ranked if usd >= 0.005))
    unchecked = [k for k, v in PRICES.items() if not v[3]]
    print(f"\nprices taken from us-east-1 as the stand-in for {REGION} (check the page): {', '.join(unchecked)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Danmaku fan-out on the local broker: many senders into one room, 1,000
MQTT-over-WebSocket subscribers.

Everything runs on loopback, bounded in time: the API through the gateway
emulation on in-process moto, the local IVS control plane (room channels),
the local broker (local.mqtt.LocalBroker, the IoT Core stand-in) and the
DynamoDB stream pump (like totals) and the Lambda Invoke API (danmaku slot
flushes) feeding the realtime batcher, in this process; the
subscribers in a child process (paho-mqtt clients driven by one selector
loop). Senders post danmaku and likes over the API at a fixed rate.

Prints: messages delivered per viewer per second (danmaku batches; the goal
is at most 5 at any send rate), p50/p99 send-to-receive latency (goal: p99
under 250 ms locally), like broadcasts per second (goal: at most 1 per room),
and what the same room would cost on IoT Core at 100,000 viewers (outbound
publishes per second).

    .venv/bin/python benchmarks/danmaku_fanout.py [--viewers 1000] [--rate 60] [--seconds 20]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

REGION = "ap-northeast-1"
GOAL_DELIVERIES = 5.0
GOAL_P99_MS = 250.0
GOAL_LIKES = 1.0
IOT_VIEWERS = 100_000


# -- subscribers (child process) -------------------------------------------------------
# A thousand viewers on one asyncio loop (benchmarks/mqtt_viewers.py: a minimal
# WebSocket + MQTT client stamping each read as it happens). The e2e tests use paho-mqtt.

def subscribers(url: str, creds: list[tuple[str, str, str]], topics: list[str], sample_every: int,
                ready: "mp.Event", stop: "mp.Event", out: "mp.Queue") -> None:
    from mqtt_viewers import run_viewers

    per_second: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))  # viewer -> second -> batches
    likes_seen: dict[int, list[float]] = defaultdict(list)   # sampled viewer -> like totals received
    receipts: dict[str, list[float]] = defaultdict(list)
    hops: list[float] = []          # batch slot -> receipt (broker and client side)
    slots: set[int] = set()         # publish slot ("at") of every batch a sampled viewer received
    item_slot: dict[str, int] = {}  # message id -> the slot ("at") of the batch that carried it

    def on_publish(index: int, topic: bytes, payload: bytes, now: float) -> None:
        if not payload.startswith(b'{"type":"danmaku"'):
            if index % sample_every == 0 and payload.startswith(b'{"type":"likes"'):
                likes_seen[index].append(now)
            return
        per_second[index][int(now)] += 1
        if index % sample_every:
            return                  # counted without parsing
        message = json.loads(payload)
        hops.append(now * 1000 - message["at"])
        slots.add(message["at"])
        for item in message["items"]:
            receipts[item["id"]].append(now)
            item_slot[item["id"]] = message["at"]

    viewers = [(client_id, username, password, topics) for client_id, username, password in creds]
    state = run_viewers(url, viewers, on_publish, ready=ready, stop=stop)
    # One viewer's like totals (the one that got most: every subscribed viewer gets them all).
    likes = max(likes_seen.values(), key=len, default=[])
    out.put({"per_second": {k: dict(v) for k, v in per_second.items()}, "likes": likes,
             "receipts": dict(receipts), "subscribed": state["subscribed"], "failed": state["refused"],
             "hops": hops, "slots": sorted(slots), "item_slot": item_slot})


# -- the system under test (this process) ------------------------------------------------

def start_system():
    from local.resources import LocalNames

    env = LocalNames().env()
    env.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION, "POWERTOOLS_LOG_LEVEL": "ERROR", "POWERTOOLS_METRICS_DISABLED": "true"})
    os.environ.update(env)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        os.environ.pop(name, None)

    import boto3
    from moto import mock_aws

    from local.embedded_aws import serialize_in_process_moto
    from local.ivs import LocalIvs
    from local.resources import create_all

    serialize_in_process_moto()
    mock = mock_aws()
    mock.start()
    session = boto3.session.Session(region_name=REGION)
    create_all(session, LocalNames(), provider_credentials={})
    ivs = LocalIvs(None, ingest=False)
    ivs.start()
    os.environ["AWS_ENDPOINT_URL_IVS"] = ivs.control_url
    from local.seed import seed

    seed()

    from livecommerce.interaction.spec import INTERACTION
    from local.mqtt import LocalBroker, StreamPump

    broker = LocalBroker(separate_process=True)
    urls = broker.start()
    os.environ["AWS_ENDPOINT_URL_IOT_DATA_PLANE"] = urls["publish"]
    os.environ["REALTIME_ENDPOINT"] = urls["ws"]
    from local.lambda_api import LocalLambdaApi

    lambda_api = LocalLambdaApi()
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = lambda_api.start()   # flush requests -> realtime batcher
    pump = StreamPump(session, {"Interaction": INTERACTION.physical_name(LocalNames().prefix)})
    pump.start()
    return mock, ivs, broker, pump, urls, lambda_api


def ulid_ms(ulid: str) -> int:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = 0
    for ch in ulid[:10]:
        value = value * 32 + alphabet.index(ch)
    return value


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=300, help="sender accounts (each limited to 3 per 5 s)")
    parser.add_argument("--rate", type=float, default=10.0,
                        help="danmaku sent per second over the API (moderated, timed end to end)")
    parser.add_argument("--crowd-rate", type=float, default=80.0,
                        help="further danmaku per second stored and offered to the room's batches the way "
                             "the accepting API call does it, without the HTTP and moderation steps (a crowded "
                             "room's other API containers)")
    parser.add_argument("--likers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--switch-interval-ms", type=float, default=0.5)
    args = parser.parse_args()
    import logging
    import warnings

    logging.basicConfig(level=logging.ERROR)
    warnings.filterwarnings("ignore")

    t0 = time.monotonic()
    # The broker's event loop shares this process with the API threads: hand the GIL
    # over more often than every 5 ms so it is not starved by them.
    sys.setswitchinterval(args.switch_interval_ms / 1000)
    mock, ivs, broker, pump, urls, lambda_api = start_system()
    from datetime import datetime, timedelta, timezone

    from livecommerce import identity
    from livecommerce.interaction import topics
    from livecommerce.shared import tokens
    from livecommerce.interaction.settings import get_interaction_settings
    from local import gateway

    def call(method, path, token, body=None):
        return gateway.handle(method, path, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                              json.dumps(body) if body is not None else None)

    host = tokens.issue("host-1", ["viewer", "host"])[0]
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    room = call("POST", "/v1/rooms", host, {"title": "压测直播间", "scheduled_start": start}).json()["id"]
    assert call("POST", f"/v1/rooms/{room}/start", host).status == 200
    creds = []
    for n in range(args.viewers):
        user = f"watcher-{n}"
        creds.append((topics.new_client_id("local", user), room, tokens.issue(user, ["viewer"])[0]))
    sub_topics = [topics.danmaku_topic("local", room), topics.events_topic("local", room)]
    ctx = mp.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(target=subscribers, args=(urls["ws"], creds, sub_topics, 10, ready, stop, out), daemon=True)
    child.start()
    if not ready.wait(150):
        print("subscribers did not all connect in time", file=sys.stderr)
        stop.set()
        child.join(10)
        return 1
    setup = time.monotonic() - t0

    # The authorizer refuses a token whose user does not exist: make the users a login would.
    for user in [f"fan-{n}" for n in range(args.senders)] + [f"liker-{n}" for n in range(args.likers)]:
        identity.register_dev_user(user)
    senders = [tokens.issue(f"fan-{n}", ["viewer"])[0] for n in range(args.senders)]
    likers = [tokens.issue(f"liker-{n}", ["viewer"])[0] for n in range(args.likers)]
    workers = 6      # concurrent senders: with the likers, the interaction function's 16 containers
    # Warm every container the run will use at once (the first request of each pays its
    # cold start, ~150 ms of imports) before the clock runs: one per concurrent caller.
    from local.lambda_runtime import MAX_CONTAINERS_PER_FUNCTION, invoke

    concurrent = min(MAX_CONTAINERS_PER_FUNCTION, workers + args.likers + 2)
    barrier = threading.Barrier(concurrent + 9)

    def warm_api(token: str) -> None:
        barrier.wait()
        call("GET", f"/v1/rooms/{room}/realtime", token)

    def warm_batcher() -> None:
        barrier.wait()
        invoke("realtime_batcher", {"Records": []})

    warm = [threading.Thread(target=warm_api, args=(senders[-1 - w],)) for w in range(concurrent)]
    warm += [threading.Thread(target=warm_batcher) for _ in range(9)]
    for t in warm:
        t.start()
    for t in warm:
        t.join()
    call("POST", f"/v1/rooms/{room}/danmaku", senders[-1], {"text": "预热"})
    call("POST", f"/v1/rooms/{room}/likes", senders[-1], {"count": 1})
    time.sleep(1.5)
    # The emulator's heap (moto's tables, botocore models, 16 containers' imports) is far
    # larger than any one Lambda container's; keep the collector from walking all of it on
    # every full collection in the middle of the run.
    import gc

    gc.collect()
    gc.freeze()
    sent_at: dict[str, float] = {}
    post_ms: list[float] = []
    outcomes: dict[int, int] = defaultdict(int)
    lock = threading.Lock()
    end = time.monotonic() + args.seconds
    run_from_ms, run_to_ms = time.time() * 1000, (time.time() + args.seconds) * 1000
    # Poisson arrivals (exponential gaps), as independent viewers send: a metronome would
    # lock into a fixed phase with the 200 ms slots and make the slot wait look better or
    # worse than it is. Workers take the next arrival; `before` is when it is really sent.
    import queue
    import random

    rng = random.Random(20261125)
    arrivals: "queue.Queue[tuple[float, int]]" = queue.Queue()
    at, n = time.monotonic(), 0
    while args.rate > 0:
        at += rng.expovariate(args.rate)
        if at >= end:
            break
        arrivals.put((at, n))
        n += 1

    def send(worker: int) -> None:
        while True:
            try:
                at, n = arrivals.get_nowait()
            except queue.Empty:
                return
            time.sleep(max(0.0, at - time.monotonic()))
            token = senders[n % len(senders)]
            before = time.time()
            response = call("POST", f"/v1/rooms/{room}/danmaku", token, {"text": f"第{n}条 想问下有优惠吗 {worker}"})
            with lock:
                post_ms.append((time.time() - before) * 1000)
                outcomes[response.status] += 1
                if response.status == 201:
                    sent_at[response.json()["id"]] = before

    def like(index: int) -> None:
        time.sleep(index / max(1, args.likers))        # spread over the second
        while time.monotonic() < end:
            call("POST", f"/v1/rooms/{room}/likes", likers[index], {"count": 3})
            time.sleep(1.0)

    def crowd() -> None:
        from livecommerce.interaction import repository, service
        from livecommerce.interaction.settings import get_interaction_settings
        from livecommerce.interaction.storage import MessageItem
        from livecommerce.shared.clock import now_iso
        from livecommerce.shared.ids import new_ulid

        shards = get_interaction_settings().write_shards
        crowd_rng = random.Random(7)
        next_at, n = time.monotonic(), 0
        while time.monotonic() < end:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += crowd_rng.expovariate(args.crowd_rate)
            n += 1
            message_id = new_ulid()
            item = MessageItem(
                *MessageItem.key(room, message_id, shards), room_id=room, message_id=message_id,
                user_id=f"crowd-{n % 5000}", text=("想要" if n % 3 == 0 else f"好看 {n}"),
                kind="phrase" if n % 3 == 0 else "text", priority=False, at_ms=int(time.time() * 1000),
                created_at=now_iso(), expires_at=int(time.time()) + 3600)
            repository.put_message(item)
            service.show_to_room(item)       # what the accepting API call does after storing
            with lock:
                outcomes["crowd"] += 1

    load_before = os.getloadavg()
    cpu_before, wall_before = time.process_time(), time.monotonic()
    threads = [threading.Thread(target=send, args=(w,)) for w in range(workers)]
    if args.crowd_rate > 0:
        threads.append(threading.Thread(target=crowd))
    threads += [threading.Thread(target=like, args=(i,)) for i in range(args.likers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    busy_cores = (time.process_time() - cpu_before) / (time.monotonic() - wall_before)
    time.sleep(1.5)  # the last batch and like total
    stop.set()
    result = out.get(timeout=60)
    child.join(10)
    publishes = broker.remote_stats()
    pump.stop()
    lambda_api.stop()
    broker.stop()
    ivs.stop()
    mock.stop()

    window = [s for s in range(int(time.time() - args.seconds - 2), int(time.time()))]
    per_viewer_max, per_viewer_mean = [], []
    for counts in result["per_second"].values():
        values = [counts.get(s, 0) for s in window]
        per_viewer_max.append(max(values) if values else 0)
        per_viewer_mean.append(sum(values) / max(1, len(window)))
    latencies = [(t - sent_at[i]) * 1000 for i, ts in result["receipts"].items() if i in sent_at for t in ts]
    accepted_latencies = [t * 1000 - ulid_ms(i) for i, ts in result["receipts"].items() if i in sent_at for t in ts]
    slot_waits = [at - ulid_ms(i) for i, at in result["item_slot"].items() if i in sent_at]
    like_times = result["likes"]
    like_gaps = [b - a for a, b in zip(like_times, like_times[1:])]
    likes_per_second = len(like_times) / args.seconds
    slots = sorted(a for a in result["slots"] if run_from_ms <= a <= run_to_ms + 1000)
    batches_per_second = len(slots) / ((run_to_ms + 1000 - run_from_ms) / 1000)
    # Deliveries per viewer in any one-second window, by publish time (every viewer gets every batch).
    densest = max((sum(1 for b in slots if a <= b < a + 1000) for a in slots), default=0)
    slot_gaps = [b - a for a, b in zip(slots, slots[1:])]
    accepted = outcomes.get(201, 0)
    crowd_sent = outcomes.pop("crowd", 0)
    iot = IOT_VIEWERS * (batches_per_second + likes_per_second) + accepted / args.seconds
    delivered_ids = set(result["receipts"])

    print(f"danmaku fan-out: 1 room, {args.viewers} subscribers on the local broker, {args.seconds:.0f} s "
          f"(setup {setup:.0f} s), Python {sys.version.split()[0]}")
    print(f"  sent              {sum(outcomes.values())} danmaku over the API at {args.rate:.0f}/s from "
          f"{args.senders} senders ({dict(sorted(outcomes.items()))}), {crowd_sent} more from the crowd at "
          f"{args.crowd_rate:.0f}/s, {args.likers} likers at 1 call/s")
    print(f"  sampled           {len(delivered_ids & set(sent_at))} of {accepted} API messages shown to the room "
          f"(the rest sampled away; senders get their own on their private topic)")
    print(f"  deliveries/viewer/s  danmaku batches: max {densest} in any 1 s of publishing "
          f"(min gap {min(slot_gaps or [0])} ms), mean {statistics.mean(per_viewer_mean or [0]):.2f}; "
          f"max {max(per_viewer_max or [0])} in a wall-clock second at the receiver (delivery jitter)  "
          f"(goal <= {GOAL_DELIVERIES:.0f})")
    print(f"  latency send->receive  p50 {percentile(latencies, 50):.0f} ms, p99 {percentile(latencies, 99):.0f} ms "
          f"over {len(latencies)} deliveries  (goal p99 < {GOAL_P99_MS:.0f} ms)")
    print(f"    API call (POST danmaku) p50 {percentile(post_ms, 50):.0f} ms, p99 {percentile(post_ms, 99):.0f} ms; "
          f"accepted->receive p50 {percentile(accepted_latencies, 50):.0f} ms, "
          f"p99 {percentile(accepted_latencies, 99):.0f} ms")
    print(f"    accepted->batch slot (waiting for the 200 ms slot, taking it, building the batch) "
          f"p50 {percentile(slot_waits, 50):.0f} ms, p99 {percentile(slot_waits, 99):.0f} ms")
    # The slot wait split in two: what the density rule itself imposes (a gate that publishes a message
    # at once when nothing went out for an interval, else exactly when the slot opens, given the
    # batches that really went out, counted from the message id's time) and the rest: the accepting
    # call storing the message before it offers it, the flush request, the batcher waking and its
    # conditional write, all waiting for a CPU under load.
    interval = get_interaction_settings().batch_interval_ms
    import bisect

    all_slots = sorted(result["slots"])
    rule_wait, late = [], []
    for i, at in result["item_slot"].items():
        if i not in sent_at:
            continue
        accepted_ms = ulid_ms(i)
        k = bisect.bisect_right(all_slots, accepted_ms) - 1
        ideal = accepted_ms if k < 0 else max(accepted_ms, all_slots[k] + interval)
        if at >= ideal:
            rule_wait.append(ideal - accepted_ms)
            late.append(at - ideal)
    print(f"      of which the density rule (one batch per {interval} ms) p50 {percentile(rule_wait, 50):.0f} ms, "
          f"p99 {percentile(rule_wait, 99):.0f} ms; the rest (storing, offering, the flush, taking the slot) "
          f"p50 {percentile(late, 50):.0f} ms, "
          f"p99 {percentile(late, 99):.0f} ms")
    worst = sorted(result["hops"])[-3:]
    print(f"    batch publish->receive  worst {', '.join(f'{h:.0f}' for h in worst)} ms; p50 {percentile(result['hops'], 50):.0f} ms, "
          f"p99 {percentile(result['hops'], 99):.0f} ms")
    # Where the slowest 1% of deliveries spent their time (means over those deliveries).
    parts = sorted(((t - sent_at[i]) * 1000, ulid_ms(i) - sent_at[i] * 1000, result["item_slot"][i] - ulid_ms(i),
                    t * 1000 - result["item_slot"][i])
                   for i, ts in result["receipts"].items() if i in sent_at and i in result["item_slot"] for t in ts)
    tail = parts[int(len(parts) * 0.99):]
    if tail:
        print("    slowest 1%: send->accepted {:.0f} ms + accepted->slot {:.0f} ms + slot->receive {:.0f} ms "
              "(means)".format(*(statistics.mean(p[k] for p in tail) for k in (1, 2, 3))))
    print(f"  like broadcasts/s    {likes_per_second:.2f}, min gap {min(like_gaps or [0]) * 1000:.0f} ms  "
          f"(goal <= {GOAL_LIKES:.0f})")
    print(f"  flush requests        {lambda_api.stats['event']} asynchronous invocations of the batcher "
          f"({lambda_api.stats['failed']} failed)")
    print(f"  local broker          {publishes.get('publishes', 0)} publishes in, "
          f"{result['subscribed']} subscribers ({result['failed']} refused)")
    print(f"  IoT Core at {IOT_VIEWERS:,} viewers: {iot:,.0f} outbound publishes/s "
          f"= {IOT_VIEWERS:,} x ({batches_per_second:.2f} batches + {likes_per_second:.2f} like totals)/s "
          f"+ {accepted / args.seconds:.1f} private echoes/s")
    ok = (densest <= GOAL_DELIVERIES and percentile(latencies, 99) < GOAL_P99_MS
          and likes_per_second <= GOAL_LIKES + 0.05)
    print(f"  emulator process      {busy_cores:.2f} cores busy of {os.cpu_count()} (API emulation, embedded AWS, "
          "stream pump, Lambda runtime and the load generator; the broker and subscribers run in two more)")
    print(f"  machine load        1-min load average {load_before[0]:.1f} at the start of the run, "
          f"{os.getloadavg()[0]:.1f} at its end, {os.cpu_count()} cores (a figure above ~1.5 means the "
          "latencies above include waiting for a CPU)")
    print("  goals               " + ("met" if ok else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

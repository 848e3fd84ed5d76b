"""Fan-out of server-side publishes on the local broker (local.mqtt.LocalBroker).

One room, N MQTT-over-WebSocket subscribers (default 1,000) in a child
process, M QoS 0 publishes to the room's danmaku topic through the iot-data
REST API (`POST /topics/{topic}`) at a fixed rate, each carrying the time it
was sent. The broker runs as the local stack runs it (its own process,
`python -m local.mqtt`) unless --in-process; connections are authorized by an
allow-the-room authorizer here that returns the real viewer policy, so every
delivery still passes the iot:Receive check.

Prints p50/p99/max of
  broker fan-out    the publish handler receiving the request -> the last
                    subscriber's bytes handed to its socket (the broker's own
                    figure, from its health endpoint, when it records one)
  publish->receive  before the POST here -> the last of the N subscribers
                    having the message (subscriber clocks: same host)

    .venv/bin/python benchmarks/broker_fanout.py [--viewers 1000] [--messages 100] [--rate 5]

The subscribers are a minimal WebSocket + MQTT 3.1.1 client on asyncio
protocols (no websockets library, no per-message coroutine), so that the
receiving side adds as little as possible to the measured latency.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))  # appended: PYTHONPATH may put another `local` first

STAGE = "bench"
ROOM = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
SEQ_AT, SENT_AT = 7, 24  # offsets in the payload `{"seq":00000001,"sent_ns":...`


# -- subscribers (child process) -------------------------------------------------------

def subscribers(url: str, viewers: list[tuple[str, str]], ready, stop, out) -> None:  # noqa: ANN001
    from mqtt_viewers import run_viewers

    last: dict[int, float] = {}     # seq -> latest receipt (time.time())
    first: dict[int, float] = {}    # seq -> earliest receipt
    count: dict[int, int] = {}

    def on_publish(index: int, topic: bytes, payload: bytes, now: float) -> None:
        if payload.startswith(b'{"seq":'):
            seq = int(payload[SEQ_AT:SEQ_AT + 8])
            count[seq] = count.get(seq, 0) + 1
            if now > last.get(seq, 0.0):
                last[seq] = now
            if now < first.get(seq, float("inf")):
                first[seq] = now

    topics = [f"lc/{STAGE}/rooms/{ROOM}/{t}" for t in ("danmaku", "events")]
    clients = [(client_id, ROOM, user, topics + [f"lc/{STAGE}/rooms/{ROOM}/users/{user}"])
               for client_id, user in viewers]
    state = run_viewers(url, clients, on_publish, ready=ready, stop=stop, keepalive=0)
    out.put({"last": last, "first": first, "count": count, **state})


# -- the broker and the publisher (this process) ---------------------------------------

def room_authorizer(event: dict) -> dict:
    """Any user of the bench room gets the real viewer policy (password = user id)."""
    from livecommerce.interaction import policy

    mqtt = event["protocolData"]["mqtt"]
    user = base64.b64decode(mqtt.get("password", "")).decode()
    if mqtt.get("username") != ROOM or not user:
        return {"isAuthenticated": False}
    document = policy.viewer_policy(partition="aws", region="local", account="000000000000", stage=STAGE,
                                    room_id=ROOM, user_id=user, client_id=mqtt["clientId"])
    return {"isAuthenticated": True, "principalId": user, "policyDocuments": [json.dumps(document)],
            "disconnectAfterInSeconds": 3600, "refreshAfterInSeconds": 300}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> str:
    if not values:
        return "n/a (the broker records no fan-out time)"
    return (f"p50 {percentile(values, 50):6.2f} ms   p99 {percentile(values, 99):6.2f} ms   "
            f"max {max(values):6.2f} ms   (n={len(values)})")


def health(publish_url: str) -> dict:
    parts = urlsplit(publish_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/__standin/health")
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5.0, help="publishes per second")
    parser.add_argument("--payload-bytes", type=int, default=1024, help="about a batch of danmaku")
    parser.add_argument("--in-process", action="store_true",
                        help="run the broker on a thread of this process (as the e2e tests do)")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.ERROR)
    from local.mqtt.broker import LocalBroker

    from local.sigv4 import LocalCredentials, sign

    # The publish API wants SigV4 as IoT Core does: the broker checks, this process signs.
    credentials = LocalCredentials.from_environment() or LocalCredentials("local", "local")
    region = os.environ.get("AWS_REGION") or "local"
    broker = LocalBroker(authorizer=room_authorizer, separate_process=not args.in_process,
                         credentials=credentials, region=region)
    urls = broker.start()
    viewers = [(f"lc-{STAGE}-viewer{n}-{n:012d}", f"viewer{n}") for n in range(args.viewers)]
    ctx = mp.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    child = ctx.Process(target=subscribers, args=(urls["ws"], viewers, ready, stop, out), daemon=True)
    t0 = time.monotonic()
    child.start()
    try:
        if not ready.wait(300):
            print("subscribers did not connect in time", file=sys.stderr)
            return 1
        setup = time.monotonic() - t0
        topic = f"lc/{STAGE}/rooms/{ROOM}/danmaku"
        parts = urlsplit(urls["publish"])
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        pad = b"x" * max(0, args.payload_bytes - 64)

        def publish(seq: int) -> float:
            sent = time.time()
            body = b'{"seq":%08d,"sent_ns":%019d,"pad":"%s"}' % (seq, time.time_ns(), pad)
            target = f"/topics/{quote(topic, safe='')}?qos=0"
            headers = sign("POST", urls["publish"] + target, body, service="iotdata", region=region,
                           credentials=credentials, headers={"Content-Type": "application/octet-stream"})
            conn.request("POST", target, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"publish answered {response.status}")
            return sent

        for seq in range(5):  # warm-up: not counted (seq 9000000+)
            publish(9_000_000 + seq)
            time.sleep(0.05)
        time.sleep(0.5)
        before = health(urls["publish"])
        fanouts_before = before["stats"].get("fanouts", 0)
        sent_at: dict[int, float] = {}
        post_ms: list[float] = []
        next_at = time.monotonic()
        for seq in range(args.messages):
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += 1.0 / args.rate
            sent_at[seq] = publish(seq)
            post_ms.append((time.time() - sent_at[seq]) * 1000)
        conn.close()
        time.sleep(1.0)
        after = health(urls["publish"])
        stop.set()
        result = out.get(timeout=60)
        child.join(10)
    finally:
        stop.set()
        broker.stop()

    recorded = after.get("fanout_ms") or []
    new = after["stats"].get("fanouts", 0) - fanouts_before
    fanout = recorded[-new:] if 0 < new <= len(recorded) else []
    last = [(result["last"][s] - sent_at[s]) * 1000 for s in sent_at if s in result["last"]]
    first = [(result["first"][s] - sent_at[s]) * 1000 for s in sent_at if s in result["first"]]
    complete = sum(1 for s in sent_at if result["count"].get(s) == result["subscribed"])
    print(f"broker fan-out: 1 room, {result['subscribed']} subscribers ({result['refused']} refused, "
          f"{result['closed']} closed), {args.messages} QoS 0 publishes of {args.payload_bytes} B at "
          f"{args.rate:g}/s, broker {'in-process' if args.in_process else 'in its own process'} "
          f"(setup {setup:.0f} s), {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"  delivered to all       {complete} of {args.messages} publishes")
    print(f"  broker fan-out         {summary(fanout)}")
    print(f"  publish->first recv    {summary(first)}")
    print(f"  publish->last recv     {summary(last)}")
    print(f"  POST /topics (client)  {summary(post_ms)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

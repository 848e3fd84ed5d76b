"""Cold start measured whole: init plus the first request of every HTTP function, against moto.

`benchmarks/cold_start.py` times imports only. Here, for each HTTP function (functions/<name>/handler.py
with routes in the manifest), a fresh Python process imports the handler (init, as Lambda's init
phase) and then serves one real API Gateway event, a request its clients really make, answered 2xx
(the first invoke), against the embedded moto server with every table created and the demo data
seeded. A Powertools hello-world (APIGatewayRestResolver, one GET route) is measured in the same run,
its fresh processes interleaved with each function's, and so is the floor of anything that reads
DynamoDB (the hello-world plus botocore and one GetItem). Each figure is the median of several fresh
processes; wall and CPU time.

The events are the ones the local API Gateway emulation builds (local.gateway), with the real
authorizer's context: the parent runs the gateway once per request and keeps the event it would have
passed to the function. Goal: every function's init + first request within 1.5x the hello-world's.

The entry modules load their routes' work at init (livecommerce.shared.warmup), which Lambda SnapStart
snapshots; `snap x` is the first request alone over the hello-world's init + first, what a restored
environment serves (the restore itself cannot be measured off AWS). `--load-at-init off` measures the
deferring alternative. docs/cold-start.md has the figures and the choice per function.

    .venv/bin/python benchmarks/cold_start_whole.py [--runs 5] [--only orders,rooms] [--load-at-init off]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
GOAL = 1.5

HELLO = '''
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
app = APIGatewayRestResolver()

@app.get("/v1/hello")
def hello():
    return {"hello": "world"}

def handler(event, context):
    return app.resolve(event, context)
'''

# The floor of any function that reads DynamoDB: the same hello-world whose route reads one item with
# botocore (the SDK import, one client, one GetItem), nothing of ours.
HELLO_DYNAMODB = '''
import os
import botocore.session
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
app = APIGatewayRestResolver()
client = botocore.session.get_session().create_client("dynamodb")

@app.get("/v1/hello")
def hello():
    found = client.get_item(TableName=os.environ["IDENTITY_TABLE"], Key={"pk": {"S": "none"}, "sk": {"S": "none"}})
    return {"hello": "world", "found": "Item" in found}

def handler(event, context):
    return app.resolve(event, context)
'''

PROBE = r"""
import json, sys, time, importlib.util
path, event_path = sys.argv[1], sys.argv[2]
event = json.loads(open(event_path).read())
class Context:
    function_name = "bench"; memory_limit_in_mb = 512; aws_request_id = "cold-1"
    invoked_function_arn = "arn:aws:lambda:ap-northeast-1:000000000000:function:bench"
    def get_remaining_time_in_millis(self): return 10000
cpu0, start = time.process_time(), time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
cpu1, init = time.process_time(), time.perf_counter()
result = module.handler(event, Context())
cpu2, first = time.process_time(), time.perf_counter()
result2 = module.handler(event, Context())
second = time.perf_counter()
print(json.dumps({"init_ms": (init - start) * 1000, "first_ms": (first - init) * 1000,
                  "warm_ms": (second - first) * 1000, "cpu_ms": (cpu2 - cpu0) * 1000,
                  "status": result.get("statusCode")}))
"""

# Per HTTP function, one request its clients really make, answered 2xx against the seeded data (the
# bench checks the status, so a 4xx never passes for a first request): (method, path, caller, body).
# {room} is a room host-1 schedules, with presets, one listed, a poll and a ready replay (written as the
# recording-ended flow leaves it); {poll} the poll; {date} yesterday, reconciled once by the operator.
REQUESTS: dict[str, tuple[str, str, str | None, dict | None]] = {
    "analytics": ("GET", "/v1/rooms/{room}/stats/live", "host-1", None),       # the console's live figures
    "catalog": ("GET", "/v1/rooms/{room}/cards", None, None),                   # every viewer entering a room
    "costream": ("GET", "/v1/rooms/{room}/costream", "viewer-1", None),
    "docs": ("GET", "/openapi.json", None, None),
    "engagement": ("GET", "/v1/polls/{poll}", "viewer-1", None),                # a viewer opening a poll
    "identity": ("GET", "/v1/me", "viewer-1", None),
    "interaction": ("GET", "/v1/rooms/{room}/danmaku-settings", "host-1", None),  # the console's moderation tab
    "marketing": ("GET", "/v1/me/coupons", "viewer-1", None),
    "notifications": ("GET", "/v1/me/notice-consents", "viewer-1", None),
    "orders": ("GET", "/v1/me/orders", "viewer-1", None),
    "payments": ("GET", "/v1/reconciliation/{date}", "operator-1", None),      # the ops dashboard (a run made)
    "replays": ("GET", "/v1/rooms/{room}/replay", "viewer-1", None),           # a ready replay (written here)
    "rooms": ("GET", "/v1/rooms/{room}", "viewer-1", None),
}


def _ready_replay(room_id: str) -> None:
    """A ready replay of the room, as the recording-ended flow writes it (tests/integration/media/test_replays.py)."""
    from livecommerce.media.replay_storage import ReplayItem, bind_all
    from local.resources import LocalNames

    bind_all()
    prefix = f"ivs/v1/000000000000/cold/2026/1/1/0/0/rec{room_id[-6:]}"
    ReplayItem(*ReplayItem.key(room_id), room_id=room_id, state="ready", prefix=prefix,
               bucket=LocalNames().env().get("RECORDINGS_BUCKET", "livecommerce-local-recordings"),
               recording_started_at="2026-01-01T00:00:00+00:00", duration_ms=9000,
               master_key=f"{prefix}/media/hls/master.m3u8", renditions=[], thumbnails=[], timeline=[]).save()


def build_events(workdir: Path) -> dict[str, dict]:
    """The event of one real request per HTTP function, built by the gateway emulation with real tokens."""
    import boto3

    from livecommerce import manifest
    from local import gateway
    from local.resources import LocalNames, create_all
    from local.seed import DEMO_PRODUCTS, seed

    create_all(boto3.session.Session(), LocalNames())
    seed()

    def call(method: str, path: str, user: str | None, body: dict | None):
        headers = {"Content-Type": "application/json"}
        if user:
            headers["Authorization"] = f"Bearer {tokens[user]}"
        return gateway.handle(method, path, headers, None if body is None else json.dumps(body))

    tokens: dict[str, str] = {}
    for user in ("viewer-1", "operator-1", "host-1"):
        tokens[user] = call("POST", "/v1/auth/login", None, {"provider": "dev", "code": user}).json()["token"]
    start = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    room = call("POST", "/v1/rooms", "host-1", {"title": "cold", "scheduled_start": start}).json()["id"]
    poll = call("POST", f"/v1/rooms/{room}/polls", "host-1",
                {"question": "cold?", "options": ["a", "b"], "duration_seconds": 600}).json()["id"]
    presets = call("PUT", f"/v1/rooms/{room}/products", "host-1", {"items": [
        {"product_id": p[0], "live_price": p[2] - 1000, "live_stock": 50, "display_order": i}
        for i, p in enumerate(DEMO_PRODUCTS[:3])]})
    listed = call("POST", f"/v1/rooms/{room}/products/{DEMO_PRODUCTS[0][0]}/listing", "host-1", {})
    day = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    reconciled = call("POST", f"/v1/reconciliation/{day}/runs", "operator-1", {})
    _ready_replay(room)
    print(f"setup: room {room}, poll {poll}, presets {presets.status}, listing {listed.status}, "
          f"reconciliation run {reconciled.status}")
    values = {"{room}": room, "{poll}": poll, "{date}": day}
    captured: dict[str, dict] = {}
    original = gateway.invoke

    def capture(name, event, **kwargs):
        if name in ("authorizer", "beacon_authorizer", "realtime_authorizer"):
            return original(name, event, **kwargs)
        captured[name] = event
        return {"statusCode": 200, "body": ""}

    gateway.invoke = capture
    try:
        for function in sorted({r.function for r in manifest.ROUTES if r.integration is None}):
            if function not in REQUESTS:
                raise SystemExit(f"{function}: an HTTP function with no request in REQUESTS")
            method, path, user, body = REQUESTS[function]
            route = path
            for key, value in values.items():
                path = path.replace(key, value)
            call(method, path, user, body)
            if function not in captured:
                raise SystemExit(f"{function}: {method} {path} never reached the function (gateway refused it)")
            captured[function]["_route"] = f"{method} {route}"
            (workdir / f"{function}.json").write_text(json.dumps(captured[function]))
    finally:
        gateway.invoke = original
    return captured


def _probe(handler_path: str, event_path: Path, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, handler_path, str(event_path)], capture_output=True,
                         text=True, env=env, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"{handler_path}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(samples: list[dict]) -> dict[str, float]:
    figures = {k: statistics.median(s[k] for s in samples) for k in ("init_ms", "first_ms", "warm_ms", "cpu_ms")}
    figures["total_ms"] = statistics.median(s["init_ms"] + s["first_ms"] for s in samples)
    figures["statuses"] = sorted({s["status"] for s in samples})
    return figures


def measure_pair(handler_path: str, event_path: Path, hello: tuple[str, Path], runs: int,
                 env: dict) -> tuple[dict, dict]:
    """The function's and the hello-world's figures, their fresh processes interleaved (hello, function,
    hello, function, ...) so both see the same load on a shared machine; a first pair only warms the
    bytecode caches."""
    mine, base = [], []
    for run in range(runs + 1):
        h = _probe(hello[0], hello[1], env)
        f = _probe(handler_path, event_path, env)
        if run:
            base.append(h)
            mine.append(f)
    return _median(mine), _median(base)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="")
    parser.add_argument("--load-at-init", choices=("on", "off"), default="on",
                        help="off: the entry modules defer their services and clients to the first request")
    args = parser.parse_args()
    from local.embedded_aws import EmbeddedAwsServer
    from local.resources import LocalNames

    server = EmbeddedAwsServer(port=0)
    url = server.start()
    env = dict(os.environ)
    env.update(LocalNames().env())
    env.update({"STAGE": "local", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "ap-northeast-1", "AWS_DEFAULT_REGION": "ap-northeast-1", "AWS_ENDPOINT_URL": url,
                "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true",
                "PYTHONPATH": f"{ROOT / 'layers' / 'shared' / 'python'}:{ROOT}"})
    env.pop("AWS_PROFILE", None)
    os.environ.update(env)
    env["LOAD_AT_INIT"] = "1" if args.load_at_init == "on" else "0"
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        events = build_events(work)
        hello = work / "hello.py"
        hello.write_text(HELLO)
        hello_event = dict(next(iter(events.values())))
        hello_event.update({"resource": "/v1/hello", "path": "/v1/hello", "httpMethod": "GET", "body": None,
                            "pathParameters": None, "queryStringParameters": None})
        hello_event["requestContext"] = {**hello_event["requestContext"], "resourcePath": "/v1/hello",
                                         "httpMethod": "GET"}
        hello_event.pop("_route", None)
        (work / "hello.json").write_text(json.dumps(hello_event))
        print(f"cold start, whole: init + first request (wall, ms), median of {args.runs} fresh processes, each "
              f"function's interleaved with a Powertools hello-world's; moto server; Python {sys.version.split()[0]}; "
              f"load at init {args.load_at_init}; load average {os.getloadavg()[0]:.1f}")
        print("  x hello: (init + first) / hello's; cpu x: the same in CPU time; snap x: first / hello's init + first "
              "(a SnapStart restore serves the first request with init done; the restore itself is not measured here)")
        print(f"{'function':<14}{'request':<40}{'init':>7}{'first':>7}{'total':>7}{'hello':>7}{'x hello':>8}"
              f"{'cpu':>7}{'cpu x':>7}{'snap x':>7}{'warm':>7}  goal <= {GOAL}x (status)")
        ddb = work / "hello_dynamodb.py"
        ddb.write_text(HELLO_DYNAMODB)
        floor, base = measure_pair(str(ddb), work / "hello.json", (str(hello), work / "hello.json"), args.runs, env)
        print(f"{'floor':<14}{'hello-world + botocore GetItem':<40}{floor['init_ms']:>7.0f}{floor['first_ms']:>7.0f}"
              f"{floor['total_ms']:>7.0f}{base['total_ms']:>7.0f}{floor['total_ms'] / base['total_ms']:>8.2f}"
              f"{floor['cpu_ms']:>7.0f}{floor['cpu_ms'] / base['cpu_ms']:>7.2f}"
              f"{floor['first_ms'] / base['total_ms']:>7.2f}{floor['warm_ms']:>7.1f}  "
              f"({','.join(map(str, floor['statuses']))})")
        met, missed = [], []
        only = set(filter(None, args.only.split(",")))
        for function, event in sorted(events.items()):
            if only and function not in only:
                continue
            figures, base = measure_pair(str(ROOT / "functions" / function / "handler.py"), work / f"{function}.json",
                                         (str(hello), work / "hello.json"), args.runs, env)
            ratio = figures["total_ms"] / base["total_ms"]
            cpu_ratio = figures["cpu_ms"] / base["cpu_ms"]
            ok = ratio <= GOAL
            (met if ok else missed).append(function)
            statuses = figures["statuses"]
            if any(not 200 <= status < 300 for status in statuses):
                failed = True
            print(f"{function:<14}{event['_route'][:39]:<40}{figures['init_ms']:>7.0f}{figures['first_ms']:>7.0f}"
                  f"{figures['total_ms']:>7.0f}{base['total_ms']:>7.0f}{ratio:>8.2f}{figures['cpu_ms']:>7.0f}"
                  f"{cpu_ratio:>7.2f}{figures['first_ms'] / base['total_ms']:>7.2f}{figures['warm_ms']:>7.1f}  "
                  f"{'ok' if ok else 'OVER'} "
                  f"({','.join(map(str, statuses))})")
        print(f"within {GOAL}x: {len(met)} of {len(met) + len(missed)}; over: {', '.join(missed) or 'none'}; "
              f"load average {os.getloadavg()[0]:.1f}")
    server.stop()
    if failed:
        print("a first request was not answered 2xx: it did not measure a real request", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

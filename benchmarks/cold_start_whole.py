"""Cold start measured whole: init plus the first request of every HTTP function, against moto.

`benchmarks/cold_start.py` times imports only; the entry modules defer pynamodb and botocore to the
first request, which moves that cost into it. Here, for each HTTP function (functions/<name>/handler.py
with routes in the manifest), a fresh Python process imports the handler (init, as Lambda's init
phase) and then serves one real API Gateway event for one cheap route of the function (the first
invoke), against the embedded moto server with every table created and the demo data seeded. A
Powertools hello-world (APIGatewayRestResolver, one GET route) is measured the same way in the same
run. Each figure is the median of several fresh processes.

The events are the ones the local API Gateway emulation builds (local.gateway), with the real
authorizer's context: the parent runs the gateway once per route and keeps the event it would have
passed to the function. Goal: every function's init + first request within 1.5x the hello-world's.

    .venv/bin/python benchmarks/cold_start_whole.py [--runs 3] [--only orders,rooms]
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
NONE_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"

HELLO = '''
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
app = APIGatewayRestResolver()

@app.get("/v1/hello")
def hello():
    return {"hello": "world"}

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
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
init = time.perf_counter()
result = module.handler(event, Context())
first = time.perf_counter()
result2 = module.handler(event, Context())
second = time.perf_counter()
print(json.dumps({"init_ms": (init - start) * 1000, "first_ms": (first - init) * 1000,
                  "warm_ms": (second - first) * 1000, "status": result.get("statusCode")}))
"""

# One cheap route per function: read-only, answered after the function's usual first work
# (settings, the table binding, one DynamoDB or AWS call). {x} path parameters get an id of nothing
# or a seeded one; token routes carry viewer-1's token (operator-1's for operator routes).
PREFERRED = {
    "identity": ("GET", "/v1/me"), "rooms": ("GET", "/v1/rooms/{room_id}"),
    "catalog": ("GET", "/v1/products/{product_id}"), "orders": ("GET", "/v1/me/orders"),
    "marketing": ("GET", "/v1/me/coupons"), "interaction": ("GET", "/v1/rooms/{room_id}/danmaku-settings"),
    "media": ("GET", "/v1/rooms/{room_id}/playback"), "payments": ("GET", "/v1/orders/{order_id}/payments"),
}


def _choose(routes, function):
    from livecommerce import manifest  # noqa: F401

    mine = [r for r in routes if r.function == function and r.integration is None]
    if not mine:
        return None
    want = PREFERRED.get(function)
    for r in mine:
        if want and (r.method, r.path) == want:
            return r
    gets = [r for r in mine if r.method == "GET"]
    return sorted(gets or mine, key=lambda r: (r.path.count("{"), r.auth != "public", r.path))[0]


def build_events(workdir: Path) -> dict[str, dict]:
    """The event of one route per HTTP function, built by the gateway emulation with real tokens."""
    import boto3

    from livecommerce import manifest
    from local import gateway
    from local.resources import LocalNames, create_all
    from local.seed import seed

    create_all(boto3.session.Session(), LocalNames())
    seed()
    tokens = {}
    for user in ("viewer-1", "operator-1", "host-1"):
        answer = gateway.handle("POST", "/v1/auth/login", {"Content-Type": "application/json"},
                                json.dumps({"provider": "dev", "code": user}))
        tokens[user] = answer.json()["token"]
    start = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    room = gateway.handle("POST", "/v1/rooms", {"Content-Type": "application/json",
                                                "Authorization": f"Bearer {tokens['host-1']}"},
                          json.dumps({"title": "cold", "scheduled_start": start})).json()["id"]
    captured: dict[str, dict] = {}
    original = gateway.invoke

    def capture(name, event, timeout=None):
        if name == "authorizer":
            return original(name, event, timeout=timeout)
        captured[name] = event
        return {"statusCode": 200, "body": ""}

    gateway.invoke = capture
    try:
        for function in sorted({r.function for r in manifest.ROUTES}):
            route = _choose(manifest.ROUTES, function)
            if route is None:
                continue
            path = route.path
            for part in [p for p in path.split("/") if p.startswith("{")]:
                path = path.replace(part, room if part == "{room_id}" else NONE_ID)
            user = "operator-1" if route.who == "operator" else "host-1" if route.who == "host" else "viewer-1"
            headers = {"Content-Type": "application/json"}
            if route.auth == "token":
                headers["Authorization"] = f"Bearer {tokens[user]}"
            body = json.dumps({}) if route.method in ("POST", "PUT", "PATCH") else None
            gateway.handle(route.method, path, headers, body)
            if function in captured:
                (workdir / f"{function}.json").write_text(json.dumps(captured[function]))
                captured[function]["_route"] = f"{route.method} {route.path}"
    finally:
        gateway.invoke = original
    return captured


def measure(handler_path: str, event_path: Path, runs: int, env: dict) -> dict[str, float]:
    samples = []
    for _ in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", PROBE, handler_path, str(event_path)], capture_output=True,
                             text=True, env=env, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{handler_path}: {out.stderr[-2000:]}")
        samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    samples = samples[1:]    # the first run only warms the bytecode cache
    return {k: statistics.median(s[k] for s in samples) for k in ("init_ms", "first_ms", "warm_ms")} | {
        "status": samples[-1]["status"]}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="")
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
        base = measure(str(hello), work / "hello.json", args.runs, env)
        base_total = base["init_ms"] + base["first_ms"]
        print(f"cold start, whole: init + first request, median of {args.runs} fresh processes, moto server, "
              f"Python {sys.version.split()[0]}")
        print(f"{'function':<16}{'route':<46}{'init':>8}{'first':>8}{'total':>8}{'warm':>7}{'x hello':>8}  "
              f"goal <= {GOAL}x")
        print(f"{'hello-world':<16}{'GET /v1/hello (Powertools resolver)':<46}{base['init_ms']:>8.0f}"
              f"{base['first_ms']:>8.0f}{base_total:>8.0f}{base['warm_ms']:>7.1f}{1.0:>8.2f}")
        met, missed = [], []
        only = set(filter(None, args.only.split(",")))
        for function, event in sorted(events.items()):
            if only and function not in only:
                continue
            figures = measure(str(ROOT / "functions" / function / "handler.py"), work / f"{function}.json",
                              args.runs, env)
            total = figures["init_ms"] + figures["first_ms"]
            ratio = total / base_total
            (met if ratio <= GOAL else missed).append(function)
            print(f"{function:<16}{event['_route'][:45]:<46}{figures['init_ms']:>8.0f}{figures['first_ms']:>8.0f}"
                  f"{total:>8.0f}{figures['warm_ms']:>7.1f}{ratio:>8.2f}  "
                  f"{'ok' if ratio <= GOAL else 'OVER'} ({figures['status']})")
        print(f"within {GOAL}x: {len(met)} of {len(met) + len(missed)}; over: {', '.join(missed) or 'none'}")
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

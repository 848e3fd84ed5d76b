"""Flash-sale burst against the local stack: many buyers, ten times fewer units.

Starts `python -m local.stack` in a subprocess (loopback only, free ports), as a
newcomer would, unless --api points at one already running. Sets up a room, a
product and a flash sale through the API, mints viewer tokens with the stack's
signing key, then fires every buyer's POST /v1/flash-sales/{id}/orders from a
thread pool at once (each buyer its own Idempotency-Key; a retryable 409/429 is
retried with the same key, as the mini-program does). Prints orders per
second, p50/p99 latency, units sold, oversold units and server errors, and
cross-checks the units sold against the sale's stock left.

    .venv/bin/python benchmarks/flash_sale.py [--buyers 2000] [--stock 200] [--concurrency 64]

Goal: exactly the stock sold, zero oversold, zero 5xx. Bounded: the burst stops
submitting after --max-seconds; the whole run after --max-seconds plus setup.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
_resets_lock = threading.Lock()
ADDRESS = {"name": "压测", "phone": "13800138000", "province": "浙江", "city": "杭州", "detail": "1 号"}


class Client:
    """One keep-alive HTTP connection per thread to the local API."""

    def __init__(self, base: str) -> None:
        self.base = urlsplit(base)
        self.local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=60)
            self.local.conn = conn
        return conn

    resets = 0

    def call(self, method: str, path: str, body=None, token: str | None = None, headers=None):
        """(status, body). A connection refused or reset before an answer is retried (the request
        carries its Idempotency-Key, so a retry cannot buy twice) and counted in `resets`."""
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        for attempt in range(8):
            conn = self._conn()
            try:
                conn.request(method, path, body=data, headers=all_headers)
                resp = conn.getresponse()
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
            except (http.client.HTTPException, ConnectionError, TimeoutError):
                conn.close()
                self.local.conn = None
                with _resets_lock:
                    Client.resets += 1
                if attempt == 7:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")


def start_stack() -> tuple[subprocess.Popen, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = f"{ROOT / 'layers' / 'shared' / 'python'}:{ROOT}"
    proc = subprocess.Popen([sys.executable, "-m", "local.stack", "--port", "0", "--aws-port", "0",
                             "--rtmp-port", "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        if line.startswith("READY "):
            aws = next(x.split()[1] for x in lines if x.strip().startswith("aws "))
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # keep the pipe drained
            return proc, line.split()[1], aws
    proc.kill()
    raise SystemExit("local stack did not start:\n" + "".join(lines))


def stop_stack(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def mint_tokens(aws_url: str, users: list[str]) -> dict[str, str]:
    """Viewer tokens signed with the stack's key (a login per buyer would only measure the login),
    for users that exist (the authorizer refuses a token whose user does not)."""
    os.environ.update({"AWS_ENDPOINT_URL": aws_url, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "AWS_REGION": "ap-northeast-1", "AWS_DEFAULT_REGION": "ap-northeast-1", "STAGE": "local",
                       "TOKEN_SECRET_ID": "livecommerce-local/token-signing-key"})
    for extra in (ROOT / "layers" / "shared" / "python", ROOT):
        sys.path.insert(0, str(extra))
    from concurrent.futures import ThreadPoolExecutor

    from livecommerce import identity
    from livecommerce.shared import tokens

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(identity.register_dev_user, users))
    return {user: tokens.issue(user, ["viewer"])[0] for user in users}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buyers", type=int, default=2000)
    parser.add_argument("--stock", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stop submitting after this long")
    parser.add_argument("--no-warmup", action="store_true", help="measure cold containers too")
    parser.add_argument("--api", help="an already running local stack's API URL (needs --aws too)")
    parser.add_argument("--aws", help="that stack's embedded AWS URL")
    args = parser.parse_args(argv)

    proc = None
    if args.api:
        api_url, aws_url = args.api, args.aws
        if not aws_url:
            parser.error("--api needs --aws")
    else:
        print("starting the local stack...", flush=True)
        proc, api_url, aws_url = start_stack()
    try:
        return run(args, api_url, aws_url)
    finally:
        if proc is not None:
            stop_stack(proc)


def run(args, api_url: str, aws_url: str) -> int:
    client = Client(api_url)

    def login(user: str) -> str:
        status, body = client.call("POST", "/v1/auth/login", {"provider": "dev", "code": user})
        assert status == 200, body
        return body["token"]

    host, operator = login("host-1"), login("operator-1")
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    status, room = client.call("POST", "/v1/rooms", {"title": "秒杀压测", "scheduled_start": start}, host)
    assert status == 201, room
    status, product = client.call("POST", "/v1/products", {"name": "压测商品", "list_price": 9900,
                                                           "stock": args.stock}, operator)
    assert status == 201, product
    status, sale = client.call("POST", f"/v1/rooms/{room['id']}/flash-sales", {
        "product_id": product["id"], "price": 100, "stock": args.stock, "duration_seconds": 3600,
        "per_user_limit": 1}, host)
    assert status == 201, sale
    users = [f"bench-{i:05d}" for i in range(args.buyers)]
    tokens = mint_tokens(aws_url, users)
    print(f"flash sale {sale['id']}: {args.stock} units, {args.buyers} buyers, concurrency {args.concurrency}",
          flush=True)

    if not args.no_warmup:
        # Lambda would have warm containers for a planned sale (provisioned concurrency); the
        # local runtime starts one per concurrent request. Warm the authorizer and orders function.
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            list(pool.map(lambda _: client.call("GET", "/v1/me/orders", token=tokens[users[0]]),
                          range(args.concurrency * 2)))
    Client.resets = 0
    path = f"/v1/flash-sales/{sale['id']}/orders"
    results: list[tuple[int, float, float, int, str]] = []   # status, latency, finished at, retries, code
    lock = threading.Lock()
    stop_at = time.monotonic() + args.max_seconds

    def buy(user: str) -> None:
        if time.monotonic() > stop_at:
            with lock:
                results.append((0, 0.0, time.monotonic(), 0, "not_sent"))
            return
        key = uuid.uuid4().hex
        began = time.perf_counter()
        retries = 0
        while True:
            try:
                status, body = client.call("POST", path, {"quantity": 1, "address": ADDRESS}, tokens[user],
                                           {"Idempotency-Key": key})
            except (OSError, http.client.HTTPException) as exc:
                status, body = 599, {"code": type(exc).__name__}
            code = (body or {}).get("code", "") if isinstance(body, dict) else ""
            if status in (409, 429) and isinstance(body, dict) and body.get("retryable") and retries < 10 \
                    and time.monotonic() < stop_at:
                retries += 1
                time.sleep(0.05 * retries)
                continue
            break
        with lock:
            results.append((status, time.perf_counter() - began, time.monotonic(), retries, code))

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        list(pool.map(buy, users))
    wall = time.monotonic() - t0

    sent = [r for r in results if r[0] != 0]
    ok = [r for r in sent if r[0] == 201]
    errors_5xx = [r for r in sent if r[0] >= 500]
    latencies = [r[1] * 1000 for r in sent]
    ok_latencies = [r[1] * 1000 for r in ok]
    last_sale = max((r[2] for r in ok), default=t0) - t0
    status, after = client.call("GET", f"/v1/flash-sales/{sale['id']}")
    sold = len(ok)
    left = after["stock_left"] if status == 200 else None
    oversold = max(0, sold - args.stock)
    codes: dict[str, int] = {}
    for r in sent:
        if r[0] != 201:
            codes[f"{r[0]} {r[4]}"] = codes.get(f"{r[0]} {r[4]}", 0) + 1

    print()
    print(f"requests sent        {len(sent)} of {args.buyers} in {wall:.1f} s ({len(sent) / wall:.0f} req/s)")
    print(f"orders per second    {sold / last_sale if last_sale > 0 else float('nan'):.1f} "
          f"(units sold / time to the last sale: {last_sale:.1f} s)")
    print(f"latency p50 / p99    {percentile(latencies, 0.5):.0f} / {percentile(latencies, 0.99):.0f} ms (all)"
          f"   {percentile(ok_latencies, 0.5):.0f} / {percentile(ok_latencies, 0.99):.0f} ms (orders)")
    print(f"units sold           {sold} of {args.stock} (stock left reported: {left})")
    print(f"oversold units       {oversold}")
    print(f"server errors (5xx)  {len(errors_5xx)}")
    print(f"retried requests     {sum(1 for r in sent if r[3])} (retryable 409/429), "
          f"{Client.resets} connection resets retried")
    print(f"other answers        {json.dumps(codes, ensure_ascii=False)}")
    consistent = left is not None and sold + left == args.stock
    print(f"stock check          {'ok' if consistent else 'MISMATCH'} (sold + left == stock)")
    good = sold == args.stock and oversold == 0 and not errors_5xx and consistent
    print("RESULT " + ("ok: exactly the stock sold, none oversold, no 5xx" if good else "NOT MET"))
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())

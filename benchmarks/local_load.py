"""A crowd on the local stack: N virtual mini-program clients, closed loop, for D seconds.

Starts `python -m local.stack` in a subprocess (loopback, free ports, a throw-away
state folder), as a newcomer would, unless --url points at one already running.
Sets up through the API: host-1 makes a public room, presets a product on it (the
operator adds one with enough stock) and lists it, and starts a flash sale; then
every virtual client logs in with the dev provider (viewers `load-viewer-NNN`,
created by their first login; one in 50 clients is host-1) and runs, until the
time is up, this mix with a think time between calls (uniform 0..--think s;
a real client pauses, `--think 0` hammers):

    reads   GET /v1/rooms, /v1/rooms/{id}, /v1/rooms/{id}/cards,
            /v1/rooms/{id}/flash-sales, /v1/flash-sales/{id}, /v1/me, /v1/me/orders
    writes  POST /v1/orders (Idempotency-Key), POST /v1/rooms/{id}/likes, POST /v1/rooms/{id}/danmaku

Prints requests, req/s, p50/p95/p99/max latency, how many took over 2 s and over
29 s, the 5xx and 504 counts and every status by route; then, from the stack's
GET /_local/background, the function workers' invocations and CPU per second by
caller kind (API vs background: event deliveries, stream batches, schedules,
asynchronous and workflow invocations) during the crowd, the events still queued
when it ended, and how long the background work took to drain after it
(--drain-seconds: the deadline).

    .venv/bin/python benchmarks/local_load.py [--clients 200] [--seconds 60] [--think 1.0] [--url URL]

Goal (issue 10): p99 under 2 s, nothing over 29 s, no 5xx.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = {"name": "压测", "phone": "13800138000", "province": "浙江", "city": "杭州", "detail": "1 号"}
# (weight, name): the mix a viewer runs; writes are about a fifth of the calls.
MIX = (
    (14, "rooms"), (18, "room"), (18, "cards"), (8, "flash_sales"), (6, "flash_sale"), (8, "me"),
    (5, "my_orders"), (12, "order"), (8, "likes"), (3, "danmaku"),
)
CLIENT_TIMEOUT = 60.0   # longer than the gateway's 29 s, so a gateway timeout shows as its 504


class Connection:
    """One kept-alive HTTP/1.1 connection (one per virtual client, as a phone has)."""

    def __init__(self, base: str) -> None:
        self.base = urlsplit(base)
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, body=None, token: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, object]:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=CLIENT_TIMEOUT)
            try:
                self.conn.request(method, path, body=data, headers=all_headers)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
                continue   # a kept-alive connection the server closed: reconnect once
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                raise
            try:
                return resp.status, json.loads(raw) if raw else None
            except ValueError:
                return resp.status, raw[:200]
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def start_stack(root: Path, state_dir: str | None) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = f"{root / 'layers' / 'shared' / 'python'}:{root}"
    env["STAGE"] = "local"
    cmd = [sys.executable, "-m", "local.stack", "--port", "0", "--aws-port", "0", "--rtmp-port", "0",
           "--mqtt-port", "0"]
    if state_dir is not None:
        cmd += ["--state-dir", state_dir, "--fresh"]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        lines.append(line)
        if line.startswith("READY "):
            tail: list[str] = []

            def drain() -> None:   # keep the pipe drained; remember the last lines for a post-mortem
                for rest in proc.stdout:
                    tail.append(rest)
                    del tail[:-200]

            threading.Thread(target=drain, daemon=True).start()
            proc.log_tail = tail  # type: ignore[attr-defined]
            return proc, line.split()[1]
    proc.kill()
    raise SystemExit("local stack did not start:\n" + "".join(lines))


def stop_stack(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of every live process in the stack's process group (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:   # fields after "(comm)": state ppid pgrp ... utime(12) stime(13)
            total += int(fields[11]) + int(fields[12])
    return total / tick


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def login(conn: Connection, user: str) -> str:
    for attempt in range(20):
        status, body = conn.call("POST", "/v1/auth/login", {"provider": "dev", "code": user})
        if status == 200:
            return body["token"]
        time.sleep(0.2 * (attempt + 1))
    raise SystemExit(f"login {user}: {status} {body}")


def set_up(url: str) -> dict[str, str]:
    conn = Connection(url)
    host, operator = login(conn, "host-1"), login(conn, "operator-1")
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    status, room = conn.call("POST", "/v1/rooms", {"title": "压测直播间", "scheduled_start": start}, host)
    assert status == 201, (status, room)
    status, product = conn.call("POST", "/v1/products", {"name": "压测商品", "list_price": 9900,
                                                         "stock": 2_000_000}, operator)
    assert status == 201, (status, product)
    presets = {"items": [{"product_id": product["id"], "live_price": 4900, "live_stock": 1_000_000}]}
    status, body = conn.call("PUT", f"/v1/rooms/{room['id']}/products", presets, host)
    assert status == 200, (status, body)
    status, body = conn.call("POST", f"/v1/rooms/{room['id']}/products/listing", None, host)
    assert status == 200, (status, body)
    status, sale = conn.call("POST", f"/v1/rooms/{room['id']}/flash-sales", {
        "product_id": product["id"], "price": 100, "stock": 100_000, "duration_seconds": 3600,
        "per_user_limit": 1}, host)
    assert status == 201, (status, sale)
    conn.close()
    return {"room": room["id"], "product": product["id"], "sale": sale["id"], "host": host}


def request_for(kind: str, ids: dict[str, str], rng: random.Random) -> tuple[str, str, object, dict[str, str]]:
    room = ids["room"]
    if kind == "rooms":
        return "GET", "/v1/rooms?status=scheduled", None, {}
    if kind == "room":
        return "GET", f"/v1/rooms/{room}", None, {}
    if kind == "cards":
        return "GET", f"/v1/rooms/{room}/cards", None, {}
    if kind == "flash_sales":
        return "GET", f"/v1/rooms/{room}/flash-sales", None, {}
    if kind == "flash_sale":
        return "GET", f"/v1/flash-sales/{ids['sale']}", None, {}
    if kind == "me":
        return "GET", "/v1/me", None, {}
    if kind == "my_orders":
        return "GET", "/v1/me/orders?limit=10", None, {}
    if kind == "order":
        body = {"room_id": room, "items": [{"product_id": ids["product"], "quantity": 1}], "auto_coupon": False,
                "address": ADDRESS}
        return "POST", "/v1/orders", body, {"Idempotency-Key": uuid.uuid4().hex}
    if kind == "likes":
        return "POST", f"/v1/rooms/{room}/likes", {"count": rng.randint(1, 20)}, {}
    if kind == "danmaku":
        return "POST", f"/v1/rooms/{room}/danmaku", {"text": rng.choice(["想要", "主播好", "666", "已拍"])}, {}
    raise ValueError(kind)


class Results:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.by_route: dict[str, Counter] = defaultdict(Counter)
        self.route_latencies: dict[str, list[float]] = defaultdict(list)
        self.failures = Counter()   # no answer at all (connection errors, client timeout)
        self.timeline: list[tuple[float, float]] = []   # (when the request was sent, its latency)

    def add(self, kind: str, status: int, seconds: float, sent_at: float = 0.0) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.timeline.append((sent_at, seconds))
            self.by_route[kind][status] += 1
            self.route_latencies[kind].append(seconds)


def background(url: str) -> dict | None:
    """The stack's GET /_local/background (None: a stack without it)."""
    status, body = Connection(url).call("GET", "/_local/background")
    return body if status == 200 and isinstance(body, dict) and body.get("workers") else None


def drain_time(url: str, deadline_seconds: float) -> tuple[float | None, dict | None]:
    """Seconds until no event is queued and no background invocation waits for a worker (None: not
    within the deadline), and the last figures read."""
    began = time.monotonic()
    last = None
    while time.monotonic() - began < deadline_seconds:
        last = background(url)
        if last is None:
            return None, None
        if last["queued_events"] == 0 and last["workers"]["background"]["waiting"] == 0:
            return time.monotonic() - began, last
        time.sleep(0.25)
    return None, last


def run(url: str, clients: int, seconds: float, think: float, seed: int, pgid: int | None = None) -> Results:
    print("setting up a room, a product and a flash sale...", flush=True)
    ids = set_up(url)
    users = [("host-1" if i % 50 == 49 else f"load-viewer-{i:04d}") for i in range(clients)]
    tokens: dict[str, str] = {}
    began = time.monotonic()
    # Logins in a pool of 16 (their own burst is not what is measured).
    lock = threading.Lock()
    pending = list(enumerate(users))

    def log_in_some() -> None:
        conn = Connection(url)
        while True:
            with lock:
                if not pending:
                    break
                _, user = pending.pop()
            token = login(conn, user)
            with lock:
                tokens[user] = token
        conn.close()

    workers = [threading.Thread(target=log_in_some) for _ in range(min(16, clients))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    print(f"{clients} clients logged in ({time.monotonic() - began:.1f} s); running {seconds:.0f} s, think time "
          f"uniform 0..{think:g} s between calls", flush=True)

    weights = [w for w, _ in MIX]
    kinds = [k for _, k in MIX]
    results = Results()
    stop_at = time.monotonic() + seconds
    start_gate = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        rng = random.Random(seed * 100_003 + index)
        token = tokens[users[index]]
        conn = Connection(url)
        start_gate.wait()
        if think:
            time.sleep(rng.uniform(0, think))   # spread the first calls out
        while time.monotonic() < stop_at:
            kind = rng.choices(kinds, weights)[0]
            method, path, body, headers = request_for(kind, ids, rng)
            t0 = time.perf_counter()
            try:
                status, _ = conn.call(method, path, body, token, headers)
            except Exception as exc:   # noqa: BLE001 - counted, the client goes on
                with results.lock:
                    results.failures[type(exc).__name__] += 1
                status = 0
            results.add(kind, status, time.perf_counter() - t0, time.monotonic())
            if think:
                time.sleep(rng.uniform(0, think))
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    t_start = results.started = time.monotonic()   # type: ignore[attr-defined]
    cpu_start = group_cpu_seconds(pgid) if pgid else None
    own_cpu_start = time.process_time()
    results.background_before = background(url)   # type: ignore[attr-defined]
    for thread in threads:
        thread.join(timeout=max(0.0, stop_at - time.monotonic()) + CLIENT_TIMEOUT + 5)
    results.elapsed = time.monotonic() - t_start   # type: ignore[attr-defined]
    results.cpu = group_cpu_seconds(pgid) - cpu_start if pgid else None   # type: ignore[attr-defined]
    # the load generator shares the machine's cores with the stack: its own CPU is part of the picture
    results.own_cpu = time.process_time() - own_cpu_start   # type: ignore[attr-defined]
    results.background_after = background(url)   # type: ignore[attr-defined]
    return results


def report(results: Results, clients: int, think: float) -> dict[str, object]:
    lat = results.latencies
    elapsed = results.elapsed  # type: ignore[attr-defined]
    statuses = Counter()
    for counter in results.by_route.values():
        statuses.update(counter)
    figures = {
        "clients": clients, "think_seconds": f"uniform 0..{think:g}", "seconds": round(elapsed, 1),
        "requests": len(lat), "req_per_s": round(len(lat) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(lat, 0.50) * 1000), "p95_ms": round(percentile(lat, 0.95) * 1000),
        "p99_ms": round(percentile(lat, 0.99) * 1000), "max_ms": round(max(lat, default=0) * 1000),
        "over_2s": sum(1 for x in lat if x > 2), "over_29s": sum(1 for x in lat if x > 29),
        "5xx": sum(n for s, n in statuses.items() if s >= 500), "504": statuses.get(504, 0),
        "no_answer": dict(results.failures),
        # the stack's own CPU per answered request: comparable across runs on a busy machine
        "stack_cpu_ms_per_request": (round(results.cpu * 1000 / len(lat), 1)  # type: ignore[attr-defined]
                                     if results.cpu is not None and lat else None),
        "load_generator_cpu_ms_per_request": (round(results.own_cpu * 1000 / len(lat), 1)  # type: ignore[attr-defined]
                                              if lat else None),
        "load_average": round(os.getloadavg()[0], 1),
    }
    print()
    print(f"clients {clients}, think uniform 0..{think:g} s, {elapsed:.1f} s")
    print(f"requests {figures['requests']}  req/s {figures['req_per_s']}")
    print(f"latency p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  p99 {figures['p99_ms']} ms  "
          f"max {figures['max_ms']} ms")
    print(f"over 2 s {figures['over_2s']}  over 29 s {figures['over_29s']}  5xx {figures['5xx']}  "
          f"504 {figures['504']}  no answer {sum(results.failures.values())} {dict(results.failures)}")
    print(f"stack CPU per request {figures['stack_cpu_ms_per_request']} ms  (load average {figures['load_average']}"
          f" on {os.cpu_count()} CPUs)")
    print(f"load generator CPU per request {figures['load_generator_cpu_ms_per_request']} ms (this process, "
          f"{clients} client threads)")
    windows: dict[int, list[float]] = defaultdict(list)
    for sent_at, seconds in results.timeline:
        windows[int((sent_at - results.started) // 10)].append(seconds)   # type: ignore[attr-defined]
    figures["p99_ms_by_10s"] = [round(percentile(windows[w], 0.99) * 1000) for w in sorted(windows)]
    figures["requests_by_10s"] = [len(windows[w]) for w in sorted(windows)]
    print("by 10 s of the run (a warming stack shows in the first): p99",
          " ".join(f"{ms} ms" for ms in figures["p99_ms_by_10s"]), " requests",
          " ".join(str(n) for n in figures["requests_by_10s"]))
    print("status by route (count; p99 ms):")
    for kind, counter in sorted(results.by_route.items()):
        p99 = round(percentile(results.route_latencies[kind], 0.99) * 1000)
        print(f"  {kind:<12} {dict(sorted(counter.items()))}  p99 {p99}")
    print("errors by status:", {s: n for s, n in sorted(statuses.items()) if s >= 400 or s == 0})
    before, after = getattr(results, "background_before", None), getattr(results, "background_after", None)
    if before and after:
        split = {}
        print("function workers during the crowd, by caller kind:")
        for kind in ("api", "background"):
            b, a = before["workers"][kind], after["workers"][kind]
            count = a["invocations"] - b["invocations"]
            cpu = a["cpu_seconds"] - b["cpu_seconds"]
            wait = a["wait_seconds"] - b["wait_seconds"]
            split[kind] = {"invocations_per_s": round(count / elapsed, 1), "worker_cpu_per_s": round(cpu / elapsed, 3),
                           "mean_wait_ms": round(wait * 1000 / count) if count else 0,
                           "max_wait_s": a["max_wait_seconds"]}
            print(f"  {kind:<10} {count} invocations ({count / elapsed:.1f}/s), worker CPU {cpu:.1f} s "
                  f"({cpu / elapsed:.2f} s/s), mean wait for a worker {split[kind]['mean_wait_ms']} ms, "
                  f"max {a['max_wait_seconds']:.1f} s, most waiting at once {a['max_waiting']}")
        total_cpu = sum(v["worker_cpu_per_s"] for v in split.values()) or 1.0
        print(f"  background share of the workers' CPU {100 * split['background']['worker_cpu_per_s'] / total_cpu:.0f}%"
              f"; aged past the API {after['workers']['background'].get('aged', 0)}, on background-only workers "
              f"{after['workers']['background'].get('on_background_workers', 0)}")
        print(f"background at the end of the crowd: {after['queued_events']} events queued {after['queues']}, "
              f"{after['workers']['background']['waiting']} invocations waiting for a worker, "
              f"{after['workers']['background']['running']} running")
        if before.get("aws_lock") and after.get("aws_lock"):   # the embedded AWS's one lock, per caller kind
            print("embedded AWS lock during the crowd, by caller kind (X-Local-Priority):")
            lock_split = {}
            for kind in ("api", "background"):
                b, a = before["aws_lock"][kind], after["aws_lock"][kind]
                calls, waited = a["acquired"] - b["acquired"], a["waited"] - b["waited"]
                wait = a["wait_seconds"] - b["wait_seconds"]
                lock_split[kind] = {"calls_per_s": round(calls / elapsed, 1),
                                    "mean_wait_ms": round(wait * 1000 / calls, 1) if calls else 0,
                                    "max_wait_s": a["max_wait_seconds"]}
                print(f"  {kind:<10} {calls} calls ({calls / elapsed:.1f}/s), {waited} waited, mean wait "
                      f"{lock_split[kind]['mean_wait_ms']} ms, max {a['max_wait_seconds']:.2f} s, most waiting at once "
                      f"{a['max_waiting']}")
            aged = after["aws_lock"]["aged"] - before["aws_lock"]["aged"]
            print(f"  aged past the API {aged} (aging {after['aws_lock']['aging_seconds']} s)")
            figures["aws_lock"] = {**lock_split, "aged": aged}
        figures["workers"] = split
        figures["queued_events_at_end"] = after["queued_events"]
        figures["background_waiting_at_end"] = after["workers"]["background"]["waiting"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0, help="think time: uniform 0..THINK s between calls")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", help="a running local stack's API URL (else one is started)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose local stack is started")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    parser.add_argument("--drain-seconds", type=float, default=300.0,
                        help="after the crowd, wait at most this long for the background work to drain")
    args = parser.parse_args(argv)

    proc = None
    state = None
    if args.url:
        url = args.url
    else:
        print(f"starting the local stack from {args.root}...", flush=True)
        supports_state = "--state-dir" in (args.root / "local" / "stack.py").read_text()
        state = tempfile.TemporaryDirectory(prefix="local-load-") if supports_state else None
        proc, url = start_stack(args.root, state.name if state else None)
    try:
        results = run(url, args.clients, args.seconds, args.think, args.seed, proc.pid if proc else None)
        figures = report(results, args.clients, args.think)
        if getattr(results, "background_after", None):
            drained, last = drain_time(url, args.drain_seconds)
            figures["background_drain_s"] = None if drained is None else round(drained, 1)
            if drained is None:
                print(f"background work NOT drained within {args.drain_seconds:.0f} s: "
                      f"{last and last['queued_events']} events queued, "
                      f"{last and last['workers']['background']['waiting']} invocations waiting")
            else:
                print(f"background work drained {drained:.1f} s after the crowd (event queues empty, no background "
                      "invocation waiting for a worker)")
        if args.json:
            print("FIGURES " + json.dumps(figures))
    finally:
        if proc is not None:
            stop_stack(proc)
        if state is not None:
            state.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Room entry from the edge (issue 17 outcome 1): 10,000 viewers enter a live room in 10 s.

Starts the local stack (`python -m local.stack`, as `make local` does) with its edge cache
(nginx proxy_cache standing in for CloudFront, local/edge_cache.py), creates a live room with
a listed product, then sends GET /v1/rooms/<id>/snapshot through the edge at a steady rate
from keep-alive connections, each with its own Authorization header, in three runs:

  plain         the snapshot path as clients call it;
  cache-busting a random query string on every request (?cb=<uuid>), and cookies;
  no such room  a room id that does not exist (negative caching of the 404).

Origin requests are counted where a Lambda function would run: the local API server counts
every request it hands to the gateway emulation (GET /_local/origin-requests). Goal: at most
one origin request per TTL (1 s) per path, so under ~10 for a 10 s run.

    .venv/bin/python benchmarks/room_entry.py [--entries 10000] [--seconds 10] [--connections 40]
"""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT / "layers" / "shared" / "python", ROOT):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from tests.e2e.stackproc import request, start_stack, stop_stack, url_of  # noqa: E402

GHOST_ROOM = "01J0000000000000000000GHST"


def origin_count(api: str, room: str) -> int:
    _, _, counts = request("GET", f"{api}/_local/origin-requests")
    return sum(n for key, n in counts.items() if room in key and key.endswith("/snapshot"))


def crowd(edge: str, path: str, *, entries: int, seconds: float, connections: int, bust: bool) -> dict:
    parsed = urllib.parse.urlsplit(edge)
    per_conn = entries // connections
    interval = seconds / per_conn
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = time.monotonic() + 0.2

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        mine: list[float] = []
        codes: dict[int, int] = {}
        for n in range(per_conn):
            due = start + n * interval + index * interval / connections
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            target = path + (f"?cb={uuid.uuid4().hex}" if bust else "")
            headers = {"Authorization": f"Bearer viewer-{index}-{n}"}
            if bust:
                headers["Cookie"] = f"session={uuid.uuid4().hex}"
            sent = time.perf_counter()
            conn.request("GET", target, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - sent) * 1000)
            codes[response.status] = codes.get(response.status, 0) + 1
        conn.close()
        with lock:
            latencies.extend(mine)
            for code, k in codes.items():
                statuses[code] = statuses.get(code, 0) + k

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    latencies.sort()
    return {"requests": len(latencies), "elapsed_s": round(elapsed, 2), "statuses": statuses,
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=40)
    args = parser.parse_args()

    proc, api, lines = start_stack()
    try:
        edge = url_of(lines, "edge")
        host = request("POST", f"{api}/v1/auth/login", {"provider": "dev", "code": "host-1"})[2]["token"]
        operator = request("POST", f"{api}/v1/auth/login", {"provider": "dev", "code": "operator-1"})[2]["token"]
        start_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        status, _, room = request("POST", f"{api}/v1/rooms", {"title": "冬季好物专场", "scheduled_start": start_at}, host)
        assert status == 201, room
        room_id = room["id"]
        product = request("POST", f"{api}/v1/products", {"name": "羽绒服", "list_price": 59900, "stock": 500},
                          operator)[2]["id"]
        request("PUT", f"{api}/v1/rooms/{room_id}/products",
                {"items": [{"product_id": product, "live_price": 39900, "live_stock": 200}]}, host)
        request("POST", f"{api}/v1/rooms/{room_id}/products/listing", None, host)
        assert request("POST", f"{api}/v1/rooms/{room_id}/start", None, host)[0] == 200
        print(f"edge {edge}  origin {api}  room {room_id}")
        print(f"{'run':<16}{'requests':>9}{'seconds':>9}{'origin':>8}{'limit':>7}  statuses        p50/p99 ms")
        worst = 0.0
        for name, room_of_run, bust in (("plain", room_id, False), ("cache-busting", room_id, True),
                                        ("no such room", GHOST_ROOM, True)):
            before = origin_count(api, room_of_run)
            result = crowd(edge, f"/v1/rooms/{room_of_run}/snapshot", entries=args.entries, seconds=args.seconds,
                           connections=args.connections, bust=bust)
            origin = origin_count(api, room_of_run) - before
            limit = int(result["elapsed_s"] / 1.0) + 1      # one per TTL, plus the first fill
            worst = max(worst, origin / max(limit, 1))
            print(f"{name:<16}{result['requests']:>9}{result['elapsed_s']:>9}{origin:>8}{limit:>7}  "
                  f"{json.dumps(result['statuses']):<16}{result['p50_ms']}/{result['p99_ms']}")
        print("goal: origin requests <= one per TTL (1 s) per path:", "met" if worst <= 1.0 else "MISSED")
        return 0 if worst <= 1.0 else 1
    finally:
        stop_stack(proc)


if __name__ == "__main__":
    raise SystemExit(main())

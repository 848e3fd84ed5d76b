"""The scripted session of benchmarks/cost.py: each viewer and host action once or a few times,
through the real handlers (API Gateway emulation, authorizer, functions) on moto in process, with
every AWS call counted (benchmarks/meter.py) and every function invocation timed. Writes the
per-action usage as JSON to $COST_OUT. Run by cost.py (pytest, with the tests' fixtures as plugins):

    .venv/bin/python -m pytest -q -p tests.conftest -p tests.integration.commerce_fixtures \
        benchmarks/cost_session.py
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter

from benchmarks.meter import AwsMeter, item_bytes
from livecommerce import manifest
from local import gateway

REPEAT = int(os.environ.get("COST_REPEAT", "5"))


class Recorder:
    """Per action: API requests, function invocations and their seconds, AWS calls and units."""

    def __init__(self, session, monkeypatch) -> None:
        self.actions: dict[str, dict] = {}
        self.session = session
        self._invocations: list[tuple[str, float]] = []
        real = gateway.invoke

        def timed(name, *args, **kwargs):
            started = time.perf_counter()
            try:
                return real(name, *args, **kwargs)
            finally:
                self._invocations.append((name, time.perf_counter() - started))
        monkeypatch.setattr(gateway, "invoke", timed)
        real_handle = gateway.handle
        self._requests = 0

        def counted(*args, **kwargs):
            self._requests += 1
            return real_handle(*args, **kwargs)
        monkeypatch.setattr(gateway, "handle", counted)
        self._client = session.client("dynamodb")

    def _size_of(self, table, key):
        if key[0] is None:
            return None
        found = self._client.get_item(TableName=table, Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}}).get("Item")
        return item_bytes(found) if found else None

    def run(self, name: str, action, times: int = REPEAT) -> None:
        meter = AwsMeter()
        self._invocations.clear()
        self._requests = 0
        with meter.watching():
            for i in range(times):
                action(i)
        with meter.paused():
            wcu = meter.write_units(self._size_of)
        memory = {spec.name: spec.memory_mb for spec in manifest.FUNCTION_SPECS}
        gb_seconds = sum(seconds * memory.get(fn, 512) / 1024 for fn, seconds in self._invocations)
        self.actions[name] = {
            "times": times,
            "api_requests": self._requests / times,
            "invocations": dict(Counter(fn for fn, _ in self._invocations)),
            "lambda_requests": len(self._invocations) / times,
            "lambda_gb_seconds": gb_seconds / times,
            "calls": {k: v / times for k, v in meter.by_operation().items()},
            "wcu": sum(wcu.values()) / times,
            "rcu": sum(meter.read_units.values()) / times,
            "iot_publishes": sum(v for k, v in meter.by_operation().items() if "iot" in k and "Publish" in k) / times,
            "firehose_bytes": sum(c.request_bytes for c in meter.calls if c.service == "firehose") / times,
            "eventbridge_events": sum(v for k, v in meter.by_operation().items() if k == "events:PutEvents") / times,
            "s3_requests": sum(v for k, v in meter.by_operation().items() if k.startswith("s3:")) / times,
        }


def test_scripted_session(shop, seeded, monkeypatch, tokens_for):
    rec = Recorder(seeded, monkeypatch)
    host = tokens_for("host-1")
    room = shop.room()
    assert shop.call("POST", f"/v1/rooms/{room}/start", "host-1").status == 200
    pid = shop.product(stock=1_000)
    viewers = [f"viewer-{i}" for i in range(1, 4)]
    for v in viewers:
        tokens_for(v)                                     # logins outside the counts (once a token TTL)
    rec.run("enter_snapshot_origin", lambda i: shop.ok(shop.call("GET", f"/v1/rooms/{room}/snapshot")))
    # What one edge's refresh of a poll-mode room's feed costs the origin (cached 1 s per edge).
    rec.run("feed_origin", lambda i: shop.ok(shop.call("GET", f"/v1/rooms/{room}/feed?seq=0")))
    rec.run("enter_my_coupons", lambda i: shop.ok(shop.call("GET", "/v1/me/coupons", viewers[i % 3])))
    rec.run("danmaku", lambda i: shop.call("POST", f"/v1/rooms/{room}/danmaku", viewers[i % 3],
                                            {"text": f"好看 {i}"}))
    rec.run("like", lambda i: shop.call("POST", f"/v1/rooms/{room}/likes", viewers[i % 3], {"count": 5}))
    sale = shop.flash_sale(room, pid, stock=100, limit=5)
    shop.ok(shop.buy("viewer-9", sale["id"]), 201)        # the container's caches, as in a running sale
    rec.run("flash_buy", lambda i: shop.ok(shop.buy(viewers[i % 3], sale["id"]), 201))
    rec.run("card_listing", lambda i: shop.call("POST", f"/v1/rooms/{room}/products/{pid}/listing", "host-1"),
            times=1)
    del host
    out = os.environ.get("COST_OUT")
    if out:
        with open(out, "w") as f:
            json.dump(rec.actions, f, indent=1)
    assert rec.actions["flash_buy"]["wcu"] > 0

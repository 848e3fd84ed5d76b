"""Issue 17 outcome 1 (local side): the nginx proxy_cache that stands in for CloudFront in
front of the room-entry snapshot. A counting origin answers with the snapshot route's
Cache-Control; a crowd of requests (cache-busting query strings, Authorization headers,
cookies, a room that does not exist) reaches it at most about once per TTL per path, and
nothing per viewer ever reaches it."""
from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.edge_cache import EdgeCache, find_nginx
from local.loopback import LoopbackServer, Reply

pytestmark = pytest.mark.integration
CACHE_CONTROL = "public, max-age=1, stale-while-revalidate=2"
LIVE, GHOST = "01J00000000000000000000001", "01J0000000000000000000GHST"


@pytest.fixture
def edge():
    try:
        find_nginx()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(str(exc))
    seen: list[tuple[str, dict[str, str]]] = []
    lock = threading.Lock()

    def origin(request):
        with lock:
            seen.append((request.target, dict(request.headers)))
        time.sleep(0.05)                              # an origin that takes a moment: the lock matters
        if LIVE in request.path:
            return Reply.json({"room": LIVE, "n": len(seen)}, headers={"Cache-Control": CACHE_CONTROL})
        return Reply.json({"code": "room_not_found"}, 404, {"Cache-Control": CACHE_CONTROL},
                          content_type="application/problem+json")

    server = LoopbackServer(origin, name="origin", keep_alive=True)
    url = server.start()
    cache = EdgeCache(url)
    cache.start()
    yield cache, seen
    cache.stop()
    server.stop()


def get(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("X-Cache")
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("X-Cache")


def test_a_crowd_reaches_the_origin_about_once_per_ttl_and_nothing_per_viewer(edge):
    cache, seen = edge
    paths = [f"/v1/rooms/{LIVE}/snapshot", f"/v1/rooms/{LIVE}/snapshot?cb={{}}", f"/v1/rooms/{GHOST}/snapshot"]

    def one(n):
        path = paths[n % 3].replace("{}", uuid.uuid4().hex)
        return get(cache.url + path, {"Authorization": f"Bearer viewer-{n}", "Cookie": f"s={n}"})

    started = time.monotonic()
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(one, range(1500)))
    elapsed = time.monotonic() - started
    assert {status for status, _ in answers} == {200, 404}
    assert sum(1 for status, _ in answers if status == 404) == 500
    # Two keys (the live room, the missing one): at most one origin request per key per second,
    # plus the first fill of each.
    by_key = {room: sum(1 for target, _ in seen if room in target) for room in (LIVE, GHOST)}
    budget = int(elapsed / 1.0) + 2
    assert all(1 <= count <= budget for count in by_key.values()), (by_key, elapsed)
    # The origin never sees a query string, a token or a cookie.
    assert all("?" not in target for target, _ in seen)
    assert not any({"authorization", "cookie"} & set(headers) for _, headers in seen)
    # The feed: keyed on `seq` alone (other query strings and headers dropped).
    before = len(seen)
    for n in range(50):
        get(cache.url + f"/v1/rooms/{LIVE}/feed?seq=7&cb={n}", {"Authorization": f"Bearer v{n}"})
    feed_targets = [t for t, _ in seen[before:]]
    assert feed_targets == [f"/v1/rooms/{LIVE}/feed?seq=7"] * len(feed_targets) and 1 <= len(feed_targets) <= 2
    # Anything else is not served by the edge at all.
    assert get(cache.url + f"/v1/rooms/{LIVE}/realtime")[0] == 404
    assert not any("realtime" in target for target, _ in seen)

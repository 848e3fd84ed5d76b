"""Issue 16, outcome 2 and its bad input, in a real browser (Debian's headless chromium driven by
Playwright for Python) against the local stack; a screenshot each under .artifacts/web/.

- the replay: a viewer follows the host and watches a live in which the host lists two products at
  known moments; the live ends, the page says the replay is being prepared and, when it is ready,
  plays it without a reload (the video's currentTime advances), with the two cards as markers on a
  timeline at the replay's offsets; clicking a marker seeks the video to its moment and shows that
  card; the card still sells: buy, pay through the WeChat Pay stand-in, the order is paid once.
- a stream that never starts: the host starts the room but nothing is pushed; the page says so in
  plain words and keeps retrying with growing gaps (no error, no dialog, no reload); when ffmpeg
  pushes, the video plays in the same document. A second viewer's page fetches a fresh playback
  token a minute before the first expires (the browser's clock moved by Playwright) and its next
  restart uses it. The host's encoder drops: the page says the host is reconnecting; the encoder
  comes back inside IVS's reconnect window and the video plays again, without a reload.

(A network drop, `context.set_offline`, is driven by test_web_clients.py.)
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from live_helpers import login, push, stop_pusher, wait_live, wait_replay, when
from stackproc import request, start_stack, stop_stack
from tests.polling import poll
from web_support import ARTIFACTS, PHONE, WEB_MARKS, browser, make_product, new_page  # noqa: F401 (browser: fixture)

pytestmark = WEB_MARKS

# IVS's recording reconnect window for this module's stack: short, so the replay is ready soon after the
# push stops, yet long enough for an encoder to come back inside it (the "host is reconnecting" case)
RECONNECT_WINDOW = 15


@pytest.fixture(scope="module")
def stack():
    proc, url, lines = start_stack("--reconnect-window", str(RECONNECT_WINDOW))
    yield url, lines, proc
    if proc.poll() is None:
        stop_stack(proc)


def _room(url: str, host: str, title: str) -> str:
    start = (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": title, "scheduled_start": start}, host)
    assert status == 201, room
    return room["id"]


def _ingest(url: str, room_id: str, host: str) -> dict:
    status, _, ingest = request("GET", f"{url}/v1/rooms/{room_id}/ingest", token=host)
    assert status == 200, ingest
    return ingest


def _video_time(page) -> float:
    return page.evaluate("() => document.querySelector('video').currentTime")


def _advances(page, seconds: float = 1.0, timeout: float = 30_000) -> None:
    at = _video_time(page)
    page.wait_for_function(f"() => document.querySelector('video').currentTime > {at} + {seconds}", timeout=timeout)


def _one_document(page) -> None:
    """Nothing reloaded the page: the marker set at the start survives and there is one navigation."""
    assert page.evaluate("() => window.__sameDocument") is True
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1


def test_replay_plays_with_its_product_timeline_and_a_card_still_sells(stack, browser):
    url, _, _ = stack
    host, operator = login(url, "host-1"), login(url, "operator-1")
    viewer = login(url, "viewer-h3-replay")           # a dev user of its own: its follow and orders only
    room_id = _room(url, host, "回放时间轴")
    first = make_product(url, operator, "回放商品甲")
    second = make_product(url, operator, "回放商品乙")
    status, _, presets = request("PUT", f"{url}/v1/rooms/{room_id}/products", {"items": [
        {"product_id": first, "live_price": 990, "live_stock": 20},
        {"product_id": second, "live_price": 1590, "live_stock": 20}]}, host)
    assert status == 200, presets
    followers = request("GET", f"{url}/v1/hosts/host-1")[2]["follower_count"]

    page = new_page(browser, PHONE)
    page.goto(f"{url}/watch/{room_id}?token={viewer}")
    page.wait_for_selector("[data-test=follow]:enabled")
    page.evaluate("() => { window.__sameDocument = true }")
    # follow the host from the announcement: the button and the count say so, and the API agrees
    page.click("[data-test=follow]")
    page.wait_for_selector("[data-test=follow]:has-text('已关注')")
    page.wait_for_selector(f"[data-test=followers]:has-text('{followers + 1} 人关注')")
    assert request("GET", f"{url}/v1/hosts/host-1")[2]["follower_count"] == followers + 1

    pusher = push(_ingest(url, room_id, host), 16)
    try:
        wait_live(url, room_id, pusher)
        listed_at = {}
        for product, at in ((first, 3), (second, 9)):     # the two cards at known moments of the live
            live_since = when(request("GET", f"{url}/v1/rooms/{room_id}")[2]["room"]["started_at"])
            assert poll(lambda: datetime.now(timezone.utc) >= live_since + timedelta(seconds=at), timeout=30,
                        interval=0.1)
            asked = datetime.now(timezone.utc)
            status, _, listing = request("POST", f"{url}/v1/rooms/{room_id}/products/{product}/listing", token=host)
            assert status == 200, listing
            listed_at[product] = (asked, datetime.now(timezone.utc))
        page.wait_for_selector("[data-test=card]:has-text('回放商品乙')", timeout=15_000)
        stop_pusher(pusher)
    finally:
        if pusher.poll() is None:
            pusher.kill()
            pusher.wait()
    status, _, ended = request("POST", f"{url}/v1/rooms/{room_id}/end", token=host)
    assert status == 200, ended
    # the page heard the end and waits for the replay in plain words
    page.wait_for_selector("[data-test=notice]:has-text('回放正在生成')", timeout=20_000)

    replay = wait_replay(url, room_id, viewer, timeout=RECONNECT_WINDOW + 90)
    assert replay is not None, "no replay"
    # the page shows it without a reload and it plays (muted autoplay)
    page.wait_for_selector("[data-test=replay]", timeout=40_000)
    page.wait_for_function("() => document.querySelector('video').currentTime > 1.5", timeout=30_000)

    # the timeline: both cards, at the replay's offsets, which are the moments the host listed them
    started = when(replay["recording_started_at"])
    expected = {e["product_id"]: e["offset_seconds"] for e in replay["timeline"] if e["kind"] == "listing"}
    assert set(expected) == {first, second}, replay["timeline"]
    for product, (asked, answered) in listed_at.items():   # the listing happened while the host's call ran
        assert (asked - started).total_seconds() - 0.5 <= expected[product] <= (answered - started).total_seconds() \
            + 0.5, (expected, listed_at, started)
    page.wait_for_function("() => document.querySelectorAll('[data-test=timeline-marker]').length === 2")
    markers = page.locator("[data-test=timeline-marker]")
    offsets = [float(markers.nth(i).get_attribute("data-offset")) for i in range(2)]
    assert offsets == [expected[first], expected[second]], (offsets, expected)
    lefts = [markers.nth(i).bounding_box()["x"] for i in range(2)]
    assert lefts[0] < lefts[1], lefts                   # placed along the bar in time order

    # clicking the second card's marker seeks the video to its moment and shows that card
    markers.nth(1).click()
    page.wait_for_function(f"() => {{ const t = document.querySelector('video').currentTime; "
                           f"return t >= {expected[second] - 0.5} && t <= {expected[second] + 3} }}", timeout=10_000)
    page.wait_for_selector("[data-test=timeline-card]:has-text('回放商品乙')")
    # and the first one's marker goes back to its moment
    markers.nth(0).click()
    page.wait_for_function(f"() => {{ const t = document.querySelector('video').currentTime; "
                           f"return t >= {expected[first] - 0.5} && t <= {expected[first] + 3} }}", timeout=10_000)
    page.wait_for_selector("[data-test=timeline-card]:has-text('回放商品甲')")
    _advances(page, 0.5)                                # still playing after the seek

    # the card still sells from the replay: buy, pay through the WeChat Pay stand-in, paid once
    markers.nth(1).click()
    page.wait_for_selector("[data-test=timeline-card]:has-text('回放商品乙')")
    page.click("[data-test=timeline-buy]")
    page.wait_for_selector("[data-test=buy-sheet]:has-text('回放商品乙')")
    page.click("[data-test=place-order]")
    page.wait_for_selector("[data-test=order-total]:has-text('15.90')")
    page.click("[data-test=pay]")
    page.wait_for_selector("[data-test=paid]", timeout=30_000)
    status, _, orders = request("GET", f"{url}/v1/me/orders", token=viewer)
    assert status == 200, orders
    mine = [(o["room_id"], o["state"], o["total"]) for o in orders["items"]]
    assert mine == [(room_id, "paid", 1590)], mine
    _one_document(page)
    page.screenshot(path=str(ARTIFACTS / "watch-replay.png"), full_page=True)
    assert page.problems == []


def _manifest_requests(page) -> list[str]:
    """The url of every multivariant-playlist request the page makes (the one with the token)."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if ".m3u8" in r.url and "token=" in r.url else None)
    return seen


def _until(page, predicate, timeout: float) -> bool:
    """Wait for `predicate()` while Playwright delivers the page's events (a plain sleep would not)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(100)
    return True


# when the page asked for the multivariant playlist, ms on its own clock (resource timing)
PLAYLIST_TIMES = ("() => performance.getEntriesByType('resource').filter(e => e.name.includes('.m3u8?token='))"
                  ".map(e => e.startTime)")


def test_a_stream_that_never_starts_then_plays_drops_and_comes_back(stack, browser):
    url, _, _ = stack
    host = login(url, "host-1")
    room_id = _room(url, host, "迟迟不推流")
    ingest = _ingest(url, room_id, host)

    page = new_page(browser, PHONE)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}/watch/{room_id}?token={login(url, 'viewer-1')}")
    page.wait_for_selector("[data-test=notice]:has-text('直播尚未开始')")
    page.wait_for_selector(".watch[data-realtime=connected]", timeout=15_000)   # hears room_started
    page.evaluate("() => { window.__sameDocument = true }")

    # the host starts the room, but no encoder pushes: the page tries, says so in plain words, tries again
    status, _, started = request("POST", f"{url}/v1/rooms/{room_id}/start", token=host)
    assert status == 200 and started["status"] == "live", started
    page.wait_for_selector("[data-test=notice]:has-text('主播还没有推流')", timeout=20_000)
    page.wait_for_function(f"() => ({PLAYLIST_TIMES})().length >= 4", timeout=30_000)   # ~1 + 2 + 4 s of backoff
    times = page.evaluate(PLAYLIST_TIMES)
    gaps = [(b - a) / 1000 for a, b in zip(times, times[1:4])]
    assert gaps[0] >= 0.8 and gaps[1] >= gaps[0] * 1.5 and gaps[2] >= gaps[1] * 1.5, gaps     # growing gaps
    print(f"\nretries of a stream that never started, seconds apart: {[round(g, 2) for g in gaps]}")
    assert page.locator("[data-test=error]").count() == 0 and dialogs == []
    assert page.evaluate("() => window.__ttff == null")     # nothing played yet

    pusher = push(ingest, 150)
    try:
        wait_live(url, room_id, pusher)
        # the next retry finds the picture: it plays in the same document, the notice is gone
        page.wait_for_function("() => window.__ttff != null", timeout=40_000)
        _advances(page)
        page.wait_for_selector("[data-test=notice]", state="detached", timeout=10_000)
        _one_document(page)
        page.screenshot(path=str(ARTIFACTS / "watch-stream-started-late.png"), full_page=True)

        # the playback token is fetched again a minute before it expires, and the next restart uses the new one.
        # A second viewer's page; its first pass is made to say it expires in 80 s (the token itself is the
        # API's, 10 minutes), so the page must fetch again ~20 s later, before any restart needs it.
        late = new_page(browser, PHONE)
        passes: list[tuple[float, str]] = []       # (monotonic time, token) of each GET /playback answer

        def playback(route):
            answer = route.fetch()
            body = answer.json()
            if not passes:
                body["expires_at"] = (datetime.now(timezone.utc) + timedelta(seconds=80)).isoformat()
            passes.append((time.monotonic(), body["token"]))
            route.fulfill(response=answer, json=body)
        late.route(f"**/v1/rooms/{room_id}/playback", playback)
        late_manifests = _manifest_requests(late)
        late.goto(f"{url}/watch/{room_id}?token={login(url, 'viewer-2')}")
        late.wait_for_function("() => window.__ttff != null", timeout=30_000)
        assert len(passes) == 1 and parse_qs(urlsplit(late_manifests[-1]).query)["token"] == [passes[0][1]]
        assert _until(late, lambda: len(passes) >= 2, timeout=40), "no refresh before expiry"
        early = passes[1][0] - passes[0][0]
        assert 17 <= early <= 26, f"fetched again {early:.1f} s after the first pass (a minute before expiry: 20 s)"
        assert passes[1][1] != passes[0][1]
        # the next (re)start loads the playlist with the fresh token
        before = len(late_manifests)
        late.context.set_offline(True)
        late.wait_for_selector("[data-test=notice]:has-text('网络已断开')", timeout=10_000)
        late.context.set_offline(False)
        assert _until(late, lambda: len(late_manifests) > before, timeout=20), "no restart after the drop"
        assert parse_qs(urlsplit(late_manifests[before]).query)["token"] == [passes[1][1]]
        assert len(passes) == 2                    # the fresh pass was at hand: no fetch at the restart
        _advances(late)                            # and it plays again
        late.context.close()

        # the host's encoder drops: the page says the host is reconnecting (no error, no reload)
        pusher.kill()
        pusher.wait()
        page.wait_for_selector("[data-test=notice]:has-text('主播正在重连')", timeout=RECONNECT_WINDOW * 1000)
        assert request("GET", f"{url}/v1/rooms/{room_id}")[2]["room"]["status"] == "interrupted"
        page.screenshot(path=str(ARTIFACTS / "watch-host-reconnecting.png"), full_page=True)
        # it comes back inside the reconnect window: the page plays again by itself
        pusher = push(ingest, 60)
        wait_live(url, room_id, pusher)
        page.wait_for_selector("[data-test=notice]", state="detached", timeout=40_000)
        _advances(page)
        assert page.locator("[data-test=error]").count() == 0 and dialogs == []
        _one_document(page)
        assert page.problems == []
    finally:
        if pusher.poll() is None:
            pusher.kill()
            pusher.wait()
        request("POST", f"{url}/v1/rooms/{room_id}/end", token=host)

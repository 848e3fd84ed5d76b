"""Issue 16 (viewer page) with issue 17's read diffusion: the viewer page follows the room's crowd
danmaku delivery. In poll mode the danmaku batches are not published on the danmaku topic and the
like totals are not pushed: the page must read GET /v1/rooms/{id}/feed?seq=N itself.

One scenario in headless chromium against the local stack (a screenshot in .artifacts/web/):
- before the viewer opens the page the room has been in poll mode once (feed pages written, never
  pushed); the page opens in push mode and must not show them when it polls later;
- the host switches the room to poll: the page starts polling from the room's latest page at join
  (`feed_seq`), shows another viewer's danmaku from the feed, and its like count follows the total
  other viewers' likes make (not pushed in poll mode);
- a second viewer opening the page while the room is in poll starts polling at once, from where
  the feed is;
- the host's console, open on the room, shows the crowd's danmaku in its moderation queue in poll mode
  too (it reuses the page's feed follower);
- the host switches back to push: a danmaku sent at once is shown once, pushed or (by a container whose
  settings copy still says poll) from the feed, which the page drains once at once and once after the
  5 s cache window; no feed request after that, and the next danmaku still arrives (over MQTT); no
  danmaku is shown twice.
"""
from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlparse

from live_helpers import login, push, wait_live
from stackproc import request
from tests.polling import poll
from web_support import ARTIFACTS, PHONE, WEB_MARKS, browser, new_page  # noqa: F401 (browser: fixture)

pytestmark = WEB_MARKS


def _feed_watcher(page):
    """Every feed request the page makes (its seq, in order) and every feed answer's body. Playwright
    hands events over only while it runs: a poll on these lists lets the page run (wait_for_timeout)."""
    asked: list[int] = []
    answers: list[dict] = []

    def on_request(req):
        if "/feed" in req.url and "/v1/rooms/" in req.url:
            asked.append(int(parse_qs(urlparse(req.url).query)["seq"][0]))

    def on_response(resp):
        if "/feed" in resp.url and "/v1/rooms/" in resp.url and resp.ok:
            try:
                answers.append(resp.json())
            except Exception:  # noqa: BLE001 - a page closing mid-answer
                pass

    page.on("request", on_request)
    page.on("response", on_response)
    return asked, answers


def _send(url, room_id, token, text):
    status, _, sent = request("POST", f"{url}/v1/rooms/{room_id}/danmaku", {"text": text}, token)
    assert status == 201, sent
    return sent


def _send_until_shown(url, room_id, token, page, text, deadline=30.0) -> str:
    """Another viewer chats until one of their messages shows on the page (crowd danmaku are QoS 0:
    one sent while the page is still subscribing is lost, as on IoT Core); the text shown."""
    sent: list[str] = []

    def shown():
        text_n = f"{text}-{len(sent)}"
        sent.append(text_n)
        _send(url, room_id, token, text_n)
        try:
            page.wait_for_selector(f"[data-test=danmaku-item]:has-text('{text_n}')", timeout=5_000)
        except Exception:  # noqa: BLE001 - not shown in 5 s: say something else
            return None
        return text_n

    found = poll(shown, deadline)
    assert found, f"none of {sent} was shown"
    return found


def _likes_shown(page) -> int:
    return int(re.sub(r"\D", "", page.inner_text("[data-test=like]")) or 0)


def _texts(page) -> list[str]:
    return page.eval_on_selector_all("[data-test=danmaku-item]", "els => els.map(e => e.innerText)")


def test_viewer_follows_poll_mode_and_back(stack, browser):
    url, _, _ = stack
    host, viewer, other, fan = (login(url, u) for u in ("host-1", "viewer-1", "viewer-2", "viewer-3"))
    start = (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": "读扩散直播", "scheduled_start": start}, host)
    assert status == 201, room
    room_id = room["id"]
    tag = uuid.uuid4().hex[:4]

    def set_delivery(mode):
        status, _, body = request("PUT", f"{url}/v1/rooms/{room_id}/danmaku-settings", {"delivery": mode}, host)
        assert status == 200 and body["delivery"] == mode, body

    status, _, ingest = request("GET", f"{url}/v1/rooms/{room_id}/ingest", token=host)
    assert status == 200, ingest
    pusher = push(ingest, 120)
    late = console = None
    try:
        wait_live(url, room_id, pusher)
        # An earlier poll period: pages the feed keeps (ten minutes) that this viewer must never see.
        set_delivery("poll")
        old = f"旧页 {tag}"
        _send(url, room_id, other, old)
        assert poll(lambda: request("GET", f"{url}/v1/rooms/{room_id}/feed?seq=0")[2]["next_seq"] or None, 15.0)
        set_delivery("push")
        joined_at = request("GET", f"{url}/v1/rooms/{room_id}/feed?seq=0")[2]["next_seq"]

        page = new_page(browser, PHONE)
        asked, answers = _feed_watcher(page)
        page.goto(f"{url}/watch/{room_id}?token={viewer}")
        page.wait_for_selector("[data-test=danmaku][data-delivery=push]")
        # push: another viewer's danmaku over MQTT, no feed request
        pushed = _send_until_shown(url, room_id, other, page, f"推送 {tag}")
        assert asked == []

        # the host's console is open on the room (its moderation queue reads the same batches)
        console = new_page(browser)
        console_asked, _ = _feed_watcher(console)
        console.goto(f"{url}/console/")
        console.fill("[data-test=login-code]", "host-1")
        console.click("[data-test=login-submit]")
        console.click(f"a:has-text('读扩散直播')")
        console.wait_for_selector("[data-test=room-status]:has-text('live')", timeout=20_000)

        # the host switches to poll: the page polls from the latest page at its join, not from 0
        set_delivery("poll")
        page.wait_for_selector("[data-test=danmaku][data-delivery=poll]", timeout=15_000)
        assert poll(lambda: page.wait_for_timeout(50) or asked or None, 10.0), "no feed request in poll mode"
        assert asked[0] == joined_at > 0, (asked, joined_at)
        # another viewer's danmaku shown from a feed answer (for up to 5 s after the switch a container
        # with the old settings cached may still push a batch: docs/delivery-switch.md; chat goes on)
        sent_in_poll: list[str] = []

        def shown_from_feed():
            text_n = f"轮询 {tag}-{len(sent_in_poll)}"
            sent_in_poll.append(text_n)
            _send(url, room_id, other, text_n)
            page.wait_for_selector(f"[data-test=danmaku-item]:has-text('{text_n}')", timeout=15_000)
            fed = any(text_n == i.get("text") for a in answers for p in a["pages"] for i in p["items"])
            return text_n if fed else None

        polled = poll(shown_from_feed, 30.0)
        assert polled, f"none of {sent_in_poll} came from the feed"
        # likes are not pushed in poll mode: the page's count follows the feed's total, rising
        before = _likes_shown(page)
        for n, total in ((6, before + 6), (4, before + 10)):
            status, _, liked = request("POST", f"{url}/v1/rooms/{room_id}/likes", {"count": n}, fan)
            assert status in (200, 201, 202) and liked["accepted"] == n, liked
            page.wait_for_function(
                f"() => Number(document.querySelector('[data-test=like]').innerText.replace(/\\D/g, '')) >= {total}",
                timeout=15_000)
        # the page keeps polling at the room's cadence (one request about every poll_interval_ms)
        count = len(asked)
        assert poll(lambda: page.wait_for_timeout(50) or len(asked) >= count + 2 or None, 10.0)
        assert asked == sorted(asked)                      # the seq only moves forward

        # a viewer opening the page while the room is in poll starts polling at once, from the feed's end
        late = new_page(browser, PHONE)
        late_asked, _ = _feed_watcher(late)
        end_at_join = request("GET", f"{url}/v1/rooms/{room_id}/feed?seq=0")[2]["next_seq"]
        late.goto(f"{url}/watch/{room_id}?token={fan}")
        late.wait_for_selector("[data-test=danmaku][data-delivery=poll]", timeout=15_000)
        assert poll(lambda: late.wait_for_timeout(50) or late_asked or None, 10.0)
        assert late_asked[0] >= end_at_join, (late_asked, end_at_join)
        both = f"都看到 {tag}"
        _send(url, room_id, other, both)
        for p in (page, late):
            p.wait_for_selector(f"[data-test=danmaku-item]:has-text('{both}')", timeout=15_000)
        assert not [t for t in _texts(late) if any(x in t for x in sent_in_poll) or old in t]       # nothing from before it joined
        # the console's moderation queue follows the feed too
        console.wait_for_selector(f"[data-test=queue-item]:has-text('{both}')", timeout=15_000)
        assert console_asked and console.locator(f"[data-test=queue-item]:has-text('{old}')").count() == 0

        # back to push: polling stops; a danmaku sent at once is shown exactly once however it travels
        # (pushed by a container that has the switch, or written as a feed page by one whose 5 s
        # settings copy still says poll: the page drains the feed once at once and once after that window)
        before_switch = len(asked)
        set_delivery("push")
        page.wait_for_selector("[data-test=danmaku][data-delivery=push]", timeout=15_000)
        switched = time.monotonic()
        right_after = f"切换后 {tag}"
        _send(url, room_id, other, right_after)
        page.wait_for_selector(f"[data-test=danmaku-item]:has-text('{right_after}')", timeout=15_000)
        via_feed = any(right_after == i.get("text") for a in answers for p in a["pages"] for i in p["items"])
        again = _send_until_shown(url, room_id, other, page, f"又推送 {tag}")
        page.wait_for_timeout(max(0, int((switched + 9.0 - time.monotonic()) * 1000)))   # past the drain's last read
        drained = len(asked) - before_switch
        assert 1 <= drained <= 3, asked[before_switch:]        # (one in flight at the switch) + at once + after the window
        stopped_at = len(asked)
        page.wait_for_timeout(2500)            # the observation window: 2.5 poll intervals, nothing asked
        assert len(asked) == stopped_at, asked[stopped_at:]

        texts = _texts(page)
        assert not [t for t in texts if old in t], "a page from before the viewer joined was shown"
        mine = [t for t in texts if tag in t]
        assert len(mine) == len(set(mine)) and {pushed, polled, both, right_after, again} <= {t.split(": ", 1)[-1].strip() for t in mine}, texts
        page.screenshot(path=str(ARTIFACTS / "feed_delivery.png"), full_page=True)
        print(f"\nfeed requests: {stopped_at} (seqs {asked[0]}..{asked[-1]}), {drained} of them the drain after the "
              f"switch back, none after it; the danmaku sent right after the switch came {'from the feed' if via_feed else 'pushed'}")
        console.screenshot(path=str(ARTIFACTS / "feed_delivery_console.png"), full_page=True)
        assert page.problems == [] and late.problems == [] and console.problems == []
    finally:
        for other_page in (late, console):
            if other_page is not None:
                other_page.context.close()
        pusher.kill()
        pusher.wait()

"""Issue 16, outcome 1: the host console in a real browser (Debian's headless chromium driven by
Playwright for Python, PC viewport) against the local stack; a screenshot per scenario under .artifacts/web/.

- during a live (ffmpeg pushing): the live figures panel (online, orders, GMV, the GMV/orders-per-minute
  ECharts chart) reaches the exact order count and GMV after a viewer buys and pays in the viewer page;
  the moderation queue: the viewer's danmaku appear in the console, the host mutes that viewer from the
  queue (the viewer's next danmaku is refused in plain words in the viewer page), unmutes (it goes
  again), bans another viewer (that viewer's page says so, the API refuses them) and adds a blocked word
  (a danmaku holding it is refused in the viewer page); after a reload the console lists the muted and
  banned viewers from the API (unmute from that list works); the host ends the live and the console's report
  link opens the room's report (the dashboard's own test renders it);
- before and at the start: a room created and announced in the form (title, topic, highlights, time, and a
  cover picked as a file: a wrong-type file refused in plain words, a real PNG uploaded and set as the cover,
  the viewer page's announcement loads that image from the public-covers CDN path); materials uploaded through the file input (listed; a bad name and a too-large file refused in
  plain words); the ingest key hidden until asked, shown, rotated; the live started from the console;
  a coupon drop now (the viewer page shows it; a viewer page opened later shows it too, from the retained
  state, and claims it) and one at a time (listed as scheduled); a timed drop seen firing in the viewer
  page at its second (listed open, claimed, listed exhausted); a co-stream invitation (listed in the
  console, shown to the invitee, accepted: the console shows the guest on stage); after a reload the
  console lists the drops with their states.
"""
from __future__ import annotations

import struct
import uuid
import zlib
from datetime import datetime, timedelta

from live_helpers import login, push, wait_live
from stackproc import request
from tests.polling import poll
from web_support import ARTIFACTS, PHONE, WEB_MARKS, browser, make_product, new_page  # noqa: F401 (browser: fixture)

pytestmark = WEB_MARKS


def console_login(browser, url: str, user: str = "host-1"):
    page = new_page(browser)                    # PC viewport (1280 x 900)
    page.goto(f"{url}/console/")
    page.fill("[data-test=login-code]", user)
    page.click("[data-test=login-submit]")
    return page


def png(width: int, height: int) -> bytes:
    """A real PNG (8-bit RGB, an orange-to-red gradient) a browser decodes: the cover the host picks."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    row = b"\x00" + b"".join(bytes((255, (x * 255) // width, 32)) for x in range(width))   # filter 0, RGB
    rows = row * height
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def send_danmaku(page, text: str) -> None:
    page.fill("[data-test=danmaku-input]", text)
    page.click("[data-test=danmaku-send]")


def test_console_live_figures_and_moderation_during_a_live(stack, browser):
    url, _, _ = stack
    host, operator = login(url, "host-1"), login(url, "operator-1")
    viewer, other = login(url, "viewer-1"), login(url, "viewer-2")
    start = (datetime.utcnow() + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    title = f"控制台实时数据 {uuid.uuid4().hex[:4]}"
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": title, "scheduled_start": start}, host)
    assert status == 201, room
    room_id = room["id"]
    product = make_product(url, operator, "实时数据商品")
    status, _, presets = request("PUT", f"{url}/v1/rooms/{room_id}/products", {"items": [
        {"product_id": product, "live_price": 1290, "live_stock": 20}]}, host)
    assert status == 200, presets

    console = console_login(browser, url)
    console.click(f"a:has-text('{title}')")
    console.wait_for_selector("[data-test=room-status]:has-text('scheduled')")
    status, _, ingest = request("GET", f"{url}/v1/rooms/{room_id}/ingest", token=host)
    assert status == 200, ingest
    pusher = push(ingest, 170)
    try:
        wait_live(url, room_id, pusher)
        # the console learns of the start over MQTT: status, the player, and the figures poll
        console.wait_for_selector("[data-test=room-status]:has-text('live')", timeout=20_000)
        console.wait_for_selector("[data-test=live-figures]", timeout=20_000)
        assert console.inner_text("[data-test=live-orders]") == "0"
        console.wait_for_function("() => document.querySelector('[data-test=live] video').currentTime > 1",
                                  timeout=60_000)
        status, _, listed = request("POST", f"{url}/v1/rooms/{room_id}/products/{product}/listing", token=host)
        assert status == 200, listed

        # a viewer buys and pays in the viewer page
        watch = new_page(browser, PHONE)
        watch.goto(f"{url}/watch/{room_id}?token={viewer}")
        watch.wait_for_selector("[data-test=card]:has-text('实时数据商品') [data-test=buy]:enabled", timeout=20_000)
        watch.click("[data-test=card]:has-text('实时数据商品') [data-test=buy]")
        watch.click("[data-test=place-order]")
        watch.wait_for_selector("[data-test=order-total]:has-text('12.90')", timeout=15_000)
        watch.click("[data-test=pay]")
        watch.wait_for_selector("[data-test=paid]", timeout=30_000)
        watch.click("[data-test=buy-sheet] button:has-text('关闭')")

        # the console's figures reach one order of ¥12.90, online counts the viewer, the chart is drawn with them
        console.wait_for_function("""() => document.querySelector('[data-test=live-orders]')?.innerText === '1'
            && document.querySelector('[data-test=live-gmv]')?.innerText === '¥12.90'""", timeout=40_000)
        console.wait_for_function("""() => { const c = document.querySelector('[data-test=live-chart]');
            return c.dataset.orders === '1' && c.dataset.gmv === '1290' && c.querySelector('canvas') !== null }""",
                                  timeout=15_000)
        console.wait_for_function("() => Number(document.querySelector('[data-test=online]').innerText) >= 1",
                                  timeout=30_000)
        status, _, figures = request("GET", f"{url}/v1/rooms/{room_id}/stats/live", token=host)
        assert status == 200 and (figures["orders"], figures["gmv"]) == (1, 1290), figures
        print(f"\nconsole live figures: online {console.inner_text('[data-test=online]')}, orders 1, GMV ¥12.90; "
              f"pushes received on the staff topic: {console.get_attribute('[data-test=live-figures]', 'data-pushes')}")

        # moderation: the viewer's danmaku reaches the console's queue
        first = f"主播好 {uuid.uuid4().hex[:4]}"
        send_danmaku(watch, first)
        item = console.locator(f"[data-test=queue-item]:has-text('{first}')")
        item.wait_for(timeout=15_000)
        assert item.get_attribute("data-user") == "viewer-1"
        # mute from the queue: the viewer's next danmaku is refused in plain words
        item.locator("[data-test=mute]").click()
        console.wait_for_selector("[data-test=moderated][data-user=viewer-1] [data-test=unmute]")
        while_muted = f"禁言中 {uuid.uuid4().hex[:4]}"
        send_danmaku(watch, while_muted)
        watch.wait_for_selector("[data-test=error]:has-text('你已被禁言，暂时不能发弹幕')", timeout=10_000)
        # unmute: the next one goes through, to the console too
        console.click("[data-test=moderated][data-user=viewer-1] [data-test=unmute]")
        console.wait_for_selector("[data-test=moderated][data-user=viewer-1]", state="detached")
        after = f"解禁了 {uuid.uuid4().hex[:4]}"
        send_danmaku(watch, after)
        console.wait_for_selector(f"[data-test=queue-item]:has-text('{after}')", timeout=15_000)
        watch.wait_for_selector(f"[data-test=danmaku-item]:has-text('{after}')", timeout=15_000)
        assert console.locator(f"[data-test=queue-item]:has-text('{while_muted}')").count() == 0

        # ban another viewer from the queue: that viewer's page says so, and the API refuses them from now on
        second = new_page(browser, PHONE)
        second.goto(f"{url}/watch/{room_id}?token={other}")
        second.wait_for_selector("[data-test=danmaku-input]", timeout=20_000)
        noisy = f"刷屏 {uuid.uuid4().hex[:4]}"
        send_danmaku(second, noisy)
        # its own danmaku back in its page: its realtime subscriptions (the private topic too) are in place
        second.wait_for_selector(f"[data-test=danmaku-item]:has-text('{noisy}')", timeout=15_000)
        console.locator(f"[data-test=queue-item]:has-text('{noisy}') [data-test=ban]").click(timeout=15_000)
        console.wait_for_selector("[data-test=moderated][data-user=viewer-2] [data-test=unban]")
        second.wait_for_selector("[data-test=error]:has-text('移出')", timeout=15_000)
        status, _, refused = request("POST", f"{url}/v1/rooms/{room_id}/danmaku", {"text": "还在吗"}, other)
        assert (status, refused.get("code")) == (403, "banned"), (status, refused)

        # the host mutes viewer-1 again from the queue, then reloads the console: the room's muted and banned
        # viewers are listed from the API (not from the page's memory), and unmuting from that list works
        console.locator(f"[data-test=queue-item]:has-text('{after}') [data-test=mute]").click()
        console.wait_for_selector("[data-test=moderated][data-user=viewer-1] [data-test=unmute]")
        console.reload()
        console.click(f"a:has-text('{title}')", timeout=20_000)
        console.wait_for_selector("[data-test=room-status]:has-text('live')", timeout=20_000)
        muted = console.locator("[data-test=moderated][data-user=viewer-1]")
        muted.locator("[data-test=unmute]").wait_for(timeout=15_000)
        assert "禁言至" in muted.inner_text() and muted.locator("[data-test=unban]").count() == 0
        banned = console.locator("[data-test=moderated][data-user=viewer-2]")
        assert "已拉黑" in banned.inner_text() and banned.locator("[data-test=unban]").count() == 1
        assert console.locator("[data-test=moderated]").count() == 2
        console.screenshot(path=str(ARTIFACTS / "console-live-reloaded.png"), full_page=True)
        muted.locator("[data-test=unmute]").click()
        muted.wait_for(state="detached", timeout=15_000)
        status, _, listed = request("GET", f"{url}/v1/rooms/{room_id}/moderation", token=host)
        assert status == 200 and [(m["user_id"], m["banned"]) for m in listed["items"]] == [
            ("viewer-2", True)], listed

        # a blocked word added in the console: the viewer's danmaku holding it is refused in plain words
        console.fill("[data-test=blocked-words]", "私聊下单")
        console.click("[data-test=save-settings]")
        console.wait_for_selector("[data-test=ok]:has-text('✓')")
        status, _, settings = request("GET", f"{url}/v1/rooms/{room_id}/danmaku-settings", token=host)
        assert status == 200 and settings["blocked_words"] == ["私聊下单"], settings
        send_danmaku(watch, "私聊下单更便宜")
        watch.wait_for_selector("[data-test=error]:has-text('不允许')", timeout=10_000)
        console.screenshot(path=str(ARTIFACTS / "console-live.png"), full_page=True)
        watch.screenshot(path=str(ARTIFACTS / "console-live-viewer.png"), full_page=True)

        # the host ends the live in the console; the report link opens the room's report, the login kept
        console.click("[data-test=room] button:has-text('结束直播')")
        console.wait_for_selector("[data-test=room-status]:has-text('ended')", timeout=15_000)
        console.click("[data-test=report-link]")
        console.wait_for_url(f"**/ops/?room={room_id}")
        console.wait_for_selector("[data-test=not-ready], [data-test=gmv]", timeout=20_000)
        assert console.locator("[data-test=login]").count() == 0
        for page in (console, watch, second):
            assert page.problems == [], page.problems
    finally:
        if pusher.poll() is None:
            pusher.kill()
            pusher.wait()


def test_console_announces_uploads_rotates_drops_and_invites(stack, browser):
    url, _, _ = stack
    viewer = login(url, "viewer-1")
    console = console_login(browser, url)
    title = f"控制台预告 {uuid.uuid4().hex[:4]}"
    when = datetime.now() + timedelta(days=1)               # the browser's local time (the stack's TZ)
    console.fill("[data-test=room-title]", title)
    console.fill("[data-test=new-room] input[placeholder='话题']", "春季新品")
    console.fill("[data-test=new-room] input[placeholder^='看点']", "全场包邮，前百名送礼")
    console.fill("[data-test=room-start]", when.strftime("%Y-%m-%dT%H:%M"))
    # the cover picked as a file: a GIF is refused in plain words before anything is sent, then a real PNG
    console.set_input_files("[data-test=cover-file]", {"name": "动图.gif", "mimeType": "image/gif",
                                                       "buffer": b"GIF89a" + b"\x00" * 32})
    console.wait_for_selector("[data-test=cover-error]:has-text('封面图只能是 JPG、PNG 或 WebP 图片')")
    assert console.locator("[data-test=cover-preview]").count() == 0
    cover_png = png(64, 40)
    console.set_input_files("[data-test=cover-file]", {"name": "封面.png", "mimeType": "image/png",
                                                       "buffer": cover_png})
    console.wait_for_selector("[data-test=cover-preview]")
    assert console.locator("[data-test=cover-error]").count() == 0
    console.click("[data-test=create-room]")
    console.wait_for_selector(f"[data-test=room]:has-text('{title}')")
    room_id = console.inner_text("[data-test=room]").split("·")[-1].strip()
    # the room holds the uploaded cover once the console has set it (the upload follows the create)
    room = poll(lambda: (lambda a: a["room"] if a["room"].get("cover") else None)(
        request("GET", f"{url}/v1/rooms/{room_id}")[2]), timeout=20, interval=0.2)
    errors = console.locator("[data-test=cover-error]")
    assert room is not None, errors.inner_text() if errors.count() else "the cover was never set"
    assert (room["topic"], room["highlights"]) == ("春季新品", ["全场包邮", "前百名送礼"]), room
    assert f"/covers/{room_id}/" in room["cover"], room["cover"]     # the public-covers (CDN) path, not a presign
    assert console.locator("[data-test=cover-error]").count() == 0
    scheduled = datetime.fromisoformat(room["scheduled_start"].replace("Z", "+00:00"))
    assert abs((scheduled - when.astimezone()).total_seconds()) < 60, (room["scheduled_start"], when)
    # the viewer page's announcement shows that image: the <img> loads (decoded at the PNG's own size)
    announce = new_page(browser, PHONE)
    announce.goto(f"{url}/watch/{room_id}?token={viewer}")
    announce.wait_for_selector("[data-test=announcement] [data-test=cover]", timeout=20_000)
    announce.wait_for_function("""() => { const img = document.querySelector('[data-test=announcement] [data-test=cover]');
        return img.complete && img.naturalWidth > 0 }""", timeout=15_000)
    assert announce.eval_on_selector("[data-test=announcement] [data-test=cover]",
                                     "img => [img.naturalWidth, img.naturalHeight]") == [64, 40]
    announce.screenshot(path=str(ARTIFACTS / "console-announce-cover.png"), full_page=True)
    assert announce.problems == [], announce.problems
    announce.context.close()

    # materials: a script uploaded through the file input (S3 presigned POST), listed with its size
    script = "开场：欢迎来到直播间！\n".encode() * 200
    console.set_input_files("[data-test=material-file]",
                            {"name": "开场脚本.txt", "mimeType": "text/plain", "buffer": script})
    console.wait_for_selector("[data-test=material]:has-text('开场脚本.txt')", timeout=20_000)
    assert "script" in console.inner_text("[data-test=material]")
    # a name the API refuses (a Windows device name) and a file over the 2 MB a script may have: plain words
    console.set_input_files("[data-test=material-file]", {"name": "CON.txt", "mimeType": "text/plain", "buffer": b"x"})
    console.wait_for_selector("[data-test=upload-error]:has-text('文件名“CON.txt”不可用')")
    console.set_input_files("[data-test=material-file]",
                            {"name": "大文件.txt", "mimeType": "text/plain", "buffer": b"x" * (2 * 1024 * 1024 + 1)})
    console.wait_for_selector("[data-test=upload-error]:has-text('文件太大了：这类素材最大 2 MB')")
    assert console.locator("[data-test=material]").count() == 1
    status, _, materials = request("GET", f"{url}/v1/rooms/{room_id}/materials", token=login(url, "host-1"))
    assert status == 200 and [(m["filename"], m["size_bytes"]) for m in materials["items"]] == [
        ("开场脚本.txt", len(script))], materials

    # ingest: nothing shown until asked; then masked, shown, rotated to a different key
    assert console.locator("[data-test=ingest-key]").count() == 0
    console.click("[data-test=ingest-load]")
    assert "•" in console.inner_text("[data-test=ingest-key]")
    assert console.inner_text("[data-test=ingest-server]").startswith("rtmp")
    console.click("[data-test=key-toggle]")
    old_key = console.inner_text("[data-test=ingest-key]")
    console.click("[data-test=key-rotate]")
    console.wait_for_function(f"() => document.querySelector('[data-test=ingest-key]').innerText !== {old_key!r}")
    new_key = console.inner_text("[data-test=ingest-key]")
    assert "•" not in new_key and new_key != old_key and len(new_key) >= 8, (old_key, new_key)

    # the live started from the console; the viewer page open on it
    console.click("[data-test=room] button:has-text('开始直播')")
    console.wait_for_selector("[data-test=room-status]:has-text('live')", timeout=15_000)
    watch = new_page(browser, PHONE)
    watch.goto(f"{url}/watch/{room_id}?token={viewer}")
    watch.wait_for_selector("[data-test=danmaku-input]", timeout=20_000)
    # the viewer's own danmaku comes back to the page: its realtime subscriptions are in place (a drop is
    # announced once, on the events topic; a page that joins later does not see it)
    send_danmaku(watch, "来了来了")
    watch.wait_for_selector("[data-test=danmaku-item]:has-text('来了来了')", timeout=20_000)

    # a coupon drop now: the viewer page shows it (and the viewer claims one)
    console.click("[data-test=drop-coupon]")
    console.wait_for_selector("[data-test=drop][data-state=open]", timeout=15_000)
    watch.wait_for_selector("[data-test=coupon-drop]:has-text('直播间专享券')", timeout=15_000)
    watch.click("[data-test=claim]")
    watch.wait_for_selector("[data-test=claim]:disabled")
    # a late joiner: a viewer page opened after the drop was announced shows it (the retained state/coupon)
    # and claims a coupon of it
    late_token = login(url, "viewer-2")
    late = new_page(browser, PHONE)
    late.goto(f"{url}/watch/{room_id}?token={late_token}")
    late.wait_for_selector("[data-test=coupon-drop]:has-text('直播间专享券') [data-test=claim]:enabled", timeout=20_000)
    late.click("[data-test=claim]")
    late.wait_for_selector("[data-test=claim]:disabled", timeout=15_000)
    status, _, mine = request("GET", f"{url}/v1/me/coupons", token=late_token)
    assert status == 200 and [c["name"] for c in mine["items"]] == ["直播间专享券"], mine
    # one at a time: listed as scheduled, with its time; the API holds it scheduled
    at = datetime.now() + timedelta(minutes=20)
    console.fill("[data-test=drop-at]", at.strftime("%Y-%m-%dT%H:%M"))
    console.click("[data-test=drop-coupon]:has-text('定时发券')")
    scheduled = console.locator("[data-test=drop][data-state=scheduled]")
    scheduled.wait_for(timeout=15_000)
    assert "定时" in scheduled.inner_text()
    assert console.locator("[data-test=drop]").count() == 2

    # a timed drop seen firing: one coupon of "准点券" a little ahead (to the second), seen in the viewer page
    # when its time comes (the commerce_timers timer; see docs/web-console.md for why not the shifted clock),
    # never before; the console lists it open, the viewer claims it, the console lists it exhausted
    coupon_row = console.locator("input[title='发放总量']").locator("xpath=..")
    coupon_row.locator("input").first.fill("准点券")
    console.fill("input[title='发放总量']", "1")
    fires = (datetime.now() + timedelta(seconds=25)).replace(microsecond=0)
    console.fill("[data-test=drop-at]", fires.strftime("%Y-%m-%dT%H:%M:%S"))
    console.click("[data-test=drop-coupon]:has-text('定时发券')")
    console.wait_for_selector("[data-test=drop][data-state=scheduled]:has-text('准点券')", timeout=15_000)
    timed = console.locator("[data-test=drop]:has-text('准点券')")
    assert watch.locator("[data-test=coupon-drop]:has-text('准点券')").count() == 0
    watch.wait_for_selector("[data-test=coupon-drop]:has-text('准点券') [data-test=claim]:enabled", timeout=60_000)
    seen = datetime.now()
    assert seen >= fires, (seen, fires)      # never early (the browser, the stack and the test share a clock)
    print(f"\ntimed coupon drop seen in the viewer page {(seen - fires).total_seconds():.2f} s after its time")
    console.wait_for_selector("[data-test=drop][data-state=open]:has-text('准点券'):has-text('剩余 1 张')",
                              timeout=15_000)
    # the claim takes the last coupon: its answer is held back until the console has heard the drop is
    # exhausted, so the retained clear reaches the viewer page before the answer (the order that lost the
    # claimed drop and showed an error before the fix; unforced it happens now and then)
    exhausted = "[data-test=drop][data-state=exhausted]:has-text('准点券'):has-text('已领完')"

    def answer_after_the_clear(route):
        answer = route.fetch()
        poll(lambda: console.locator(exhausted).count() == 1, timeout=15, interval=0.1)
        route.fulfill(response=answer)
    watch.route("**/v1/coupon-drops/*/claim", answer_after_the_clear)
    watch.click("[data-test=claim]")
    watch.wait_for_selector("[data-test=coupon-drop]:has-text('准点券') [data-test=claim]:disabled", timeout=20_000)
    console.wait_for_selector(exhausted)
    assert watch.locator("[data-test=error]").count() == 0, watch.inner_text("[data-test=error]")
    watch.unroute("**/v1/coupon-drops/*/claim")
    assert timed.count() == 1

    # a co-stream invitation: listed in the console, shown to the invitee, accepted: the guest is on stage
    console.fill("[data-test=invitee]", "viewer-1")
    console.click("[data-test=invite]")
    console.wait_for_selector("[data-test=seat]:has-text('viewer-1'):has-text('等待对方接受')", timeout=15_000)
    watch.wait_for_selector("[data-test=costream-invite]:has-text('主播邀请你连麦')", timeout=15_000)
    watch.click("[data-test=accept-invite]")
    watch.wait_for_selector("[data-test=accept-invite]:disabled", timeout=15_000)
    console.wait_for_selector("[data-test=seat]:has-text('viewer-1'):has-text('连麦中')", timeout=15_000)
    status, _, seats = request("GET", f"{url}/v1/rooms/{room_id}/costream", token=login(url, "host-1"))
    assert [(s["user_id"], s["kind"], s["state"]) for s in seats["seats"]] == [
        ("viewer-1", "invitation", "on_stage")], seats
    console.screenshot(path=str(ARTIFACTS / "console-announce.png"), full_page=True)
    watch.screenshot(path=str(ARTIFACTS / "console-announce-viewer.png"), full_page=True)

    # a reload of the console: the room's drops come back from the API with their states, newest first
    console.reload()
    console.click(f"a:has-text('{title}')", timeout=20_000)
    console.wait_for_selector("[data-test=drop]:has-text('准点券')", timeout=15_000)
    rows = console.locator("[data-test=drop]")
    states = [(rows.nth(i).get_attribute("data-state"), rows.nth(i).inner_text()) for i in range(rows.count())]
    assert [s for s, _ in states] == ["exhausted", "scheduled", "open"], states
    assert "准点券" in states[0][1] and "定时" in states[1][1] and "剩余 98 张" in states[2][1], states
    console.screenshot(path=str(ARTIFACTS / "console-announce-reloaded.png"), full_page=True)
    for page in (console, watch, late):
        assert page.problems == [], page.problems

"""Issue 16: selling and taking part, driven in a real browser (Debian's headless chromium through
Playwright for Python) against the local stack; the host works in the console (PC viewport), the
viewers in the viewer page (phone viewport). A screenshot per page under .artifacts/web/.

- flash sale: the host starts one from the console a few seconds ahead (flash price, two units);
  the viewer page counts down (the shown seconds go down), the buy button turns active when the sale
  starts, the viewer buys at the flash price, pays through the WeChat Pay stand-in and sees the
  order paid; a second viewer who tries once it is sold out is told so in
  plain words and has no order (nothing charged).
- poll and quiz: the host opens a poll in the console, the viewer page pops it up, the viewer votes,
  the console shows the live count with that vote, closing it shows the final result in the viewer
  page; a quiz answered right earns points the viewer page shows (GET /v1/me/points).
- keyword lottery: the host opens one in the console, the viewer enters by sending the keyword as a
  danmaku from the pop-up, the draw shows the winner pop-up in the viewer page.
"""
from __future__ import annotations

import re
import uuid

from live_helpers import login
from stackproc import request
from tests.polling import poll
from web_support import ARTIFACTS, PHONE, WEB_MARKS, browser, make_product, new_page  # noqa: F401 (browser: fixture)

pytestmark = WEB_MARKS

ADDRESS = {"name": "王五", "phone": "13700137000", "province": "浙江", "city": "杭州", "district": "西湖区",
           "detail": "文一路 3 号"}


def console_with_room(browser, url: str, title: str):
    """The host logs in to the console, creates a room in the form and starts the live: (page, room id)."""
    page = new_page(browser)
    page.goto(f"{url}/console/")
    page.fill("[data-test=login-code]", "host-1")
    page.click("[data-test=login-submit]")
    page.fill("[data-test=room-title]", title)
    page.click("[data-test=create-room]")
    page.wait_for_selector(f"[data-test=room]:has-text('{title}')")
    room_id = page.inner_text("[data-test=room]").split("·")[-1].strip()
    page.click("[data-test=room] button:has-text('开始直播')")
    page.wait_for_selector("[data-test=room-status]:has-text('live')")
    return page, room_id


def viewer_page(browser, url: str, room_id: str, user: str):
    page = new_page(browser, PHONE)
    page.goto(f"{url}/watch/{room_id}?token={login(url, user)}")
    page.wait_for_selector("[data-test=danmaku-send]:enabled")
    page.evaluate("() => { window.__sameDocument = true }")
    return page


def orders_in(url: str, token: str, room_id: str) -> list[tuple[str, int, str]]:
    status, _, body = request("GET", f"{url}/v1/me/orders", token=token)
    assert status == 200, body
    return [(o["state"], o["total"], o.get("kind", "")) for o in body["items"] if o["room_id"] == room_id]


def seconds_shown(page) -> int:
    text = page.inner_text("[data-test=flash-starts-in]")
    return int(re.search(r"\d+", text).group())


def test_flash_sale_from_the_console_counts_down_sells_and_sells_out(stack, browser):
    url, _, _ = stack
    product = make_product(url, login(url, "operator-1"), "秒杀保温杯")
    buyer_user, late_user, third_user = (f"viewer-fs-{uuid.uuid4().hex[:6]}" for _ in range(3))
    console, room_id = console_with_room(browser, url, "秒杀专场")
    buyer = viewer_page(browser, url, room_id, buyer_user)
    late = viewer_page(browser, url, room_id, late_user)

    # the host: ¥5.00 instead of ¥19.90, two units, starting 8 seconds from now
    console.fill("[data-test=flash-product]", product)
    console.fill("[data-test=flash-price]", "500")
    console.fill("[data-test=flash-stock]", "2")
    console.fill("[data-test=flash-duration]", "120")
    console.fill("[data-test=flash-in]", "8")
    console.click("[data-test=start-flash]")
    console.wait_for_selector("[data-test=ok]:has-text('秒杀已创建')")
    console.wait_for_selector("[data-test=flash-created]:has-text('¥5.00')")

    # the viewer page: the countdown ticks down, the buy button waits for the start
    buyer.wait_for_selector("[data-test=flash-starts-in]", timeout=15_000)
    assert "¥5.00" in buyer.inner_text("[data-test=flash]")
    assert buyer.locator("[data-test=flash-buy]").is_disabled()
    first = seconds_shown(buyer)
    assert 1 <= first <= 8, first
    buyer.wait_for_function(
        f"() => {{ const el = document.querySelector('[data-test=flash-starts-in]');"
        f" return el && Number(el.innerText.match(/\\d+/)[0]) < {first} }}", timeout=5_000)
    assert buyer.inner_text("[data-test=flash-stock]") == "剩余 2"
    buyer.wait_for_selector("[data-test=flash-buy]:enabled", timeout=20_000)
    buyer.wait_for_selector("[data-test=flash-countdown]")     # "n s left" once it runs

    # the buyer pays the flash price through the WeChat Pay stand-in; the order is paid
    buyer.click("[data-test=flash-buy]")
    buyer.click("[data-test=place-order]")
    buyer.wait_for_selector("[data-test=order-total]:has-text('¥5.00')", timeout=15_000)
    buyer.click("[data-test=pay]")
    buyer.wait_for_selector("[data-test=paid]", timeout=30_000)
    buyer.click("[data-test=buy-sheet] button:has-text('关闭')")
    buyer_token = login(url, buyer_user)
    assert orders_in(url, buyer_token, room_id) == [("paid", 500, "flash_sale")]
    # the units shown drop with the buy on both pages (read from the sale's shards, off the buy's path:
    # interaction.flash_units, at most once a second per sale), without a reload
    for page in (buyer, late):
        page.wait_for_selector("[data-test=flash-stock][data-stock='1']", timeout=15_000)
        assert page.inner_text("[data-test=flash-stock]") == "剩余 1"

    # the second viewer opens the buy sheet; meanwhile someone else takes the last unit
    late.click("[data-test=flash-buy]")
    status, _, sales = request("GET", f"{url}/v1/rooms/{room_id}/flash-sales")
    assert status == 200 and len(sales["items"]) == 1, sales
    sale_id = sales["items"][0]["id"]
    status, _, taken = request("POST", f"{url}/v1/flash-sales/{sale_id}/orders", {"quantity": 1, "address": ADDRESS},
                               login(url, third_user), {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, taken
    late.click("[data-test=place-order]")
    late.wait_for_selector("[data-test=error]:has-text('已售罄')", timeout=15_000)
    assert late.locator("[data-test=order-total]").count() == 0       # no order, so nothing to pay
    late.click("[data-test=buy-sheet] button:has-text('关闭')")
    for page in (late, buyer):
        page.wait_for_selector("[data-test=flash-sold-out]", timeout=15_000)
        assert page.locator("[data-test=flash-buy]").count() == 0
    late_token = login(url, late_user)
    assert orders_in(url, late_token, room_id) == []
    status, _, sale = request("GET", f"{url}/v1/flash-sales/{sale_id}")
    assert status == 200 and (sale["stock_left"], sale["state"]) == (0, "sold_out"), sale
    assert late.evaluate("() => window.__sameDocument") is True
    buyer.screenshot(path=str(ARTIFACTS / "flash-sale-buyer.png"), full_page=True)
    late.screenshot(path=str(ARTIFACTS / "flash-sale-sold-out.png"), full_page=True)
    console.screenshot(path=str(ARTIFACTS / "flash-sale-console.png"), full_page=True)
    for page in (console, buyer, late):
        assert page.problems == []
        page.context.close()


def test_poll_and_quiz_from_the_console(stack, browser):
    url, _, _ = stack
    user = f"viewer-pq-{uuid.uuid4().hex[:6]}"
    console, room_id = console_with_room(browser, url, "互动专场")
    viewer = viewer_page(browser, url, room_id, user)
    viewer.wait_for_selector("[data-test=points]:has-text('积分 0')", timeout=10_000)

    # the host opens a poll; the viewer page pops it up, the viewer votes for the second option
    console.fill("[data-test=question]", "下一款想看什么？")
    console.fill("[data-test=options]", "口红,面霜,香水")
    console.click("[data-test=open-poll]")
    console.wait_for_selector("[data-test=console-poll][data-state=open]")
    viewer.wait_for_selector("[data-test=poll]:has-text('下一款想看什么')", timeout=15_000)
    viewer.click("[data-test=poll-option]:has-text('面霜')")
    viewer.wait_for_selector("[data-test=poll-voted]")
    # the console's live result counts that vote
    console.wait_for_function(
        "() => [...document.querySelectorAll('[data-test=console-poll-count]')].map(e => e.innerText).join() === '0,1,0'",
        timeout=15_000)
    assert "实时结果" in console.inner_text("[data-test=console-poll-phase]")
    # closing it: the console and the viewer page show the final result
    console.click("[data-test=close-poll]")
    console.wait_for_selector("[data-test=console-poll][data-state=closed]")
    assert "最终结果" in console.inner_text("[data-test=console-poll-phase]")
    viewer.wait_for_selector("[data-test=poll-final]:has-text('共 1 票')", timeout=15_000)
    assert [e.inner_text() for e in viewer.query_selector_all("[data-test=poll-count]")] == ["0", "1", "0"]
    assert viewer.locator("[data-test=poll-option]:enabled").count() == 0
    viewer.screenshot(path=str(ARTIFACTS / "poll-viewer.png"), full_page=True)

    # a quiz: the right answer (index 1) earns the quiz's 10 points, which the viewer page shows
    console.fill("[data-test=question]", "1 + 1 = ?")
    console.fill("[data-test=options]", "1,2,3")
    console.fill("[data-test=quiz-answer]", "1")
    console.click("[data-test=ask-quiz]")
    console.wait_for_selector("[data-test=console-quiz][data-state=open]")
    viewer.wait_for_selector("[data-test=quiz]:has-text('1 + 1')", timeout=15_000)
    viewer.click("[data-test=quiz-option]:has-text('2')")
    viewer.wait_for_selector("[data-test=quiz-pending]")             # taken; the answer is revealed at the close
    console.wait_for_selector("[data-test=console-quiz-total]:has-text('1 人参与')", timeout=15_000)
    console.click("[data-test=close-quiz]")
    viewer.wait_for_selector("[data-test=quiz-result]:has-text('回答正确')", timeout=15_000)
    viewer.wait_for_selector("[data-test=points]:has-text('积分 10')", timeout=20_000)
    status, _, points = request("GET", f"{url}/v1/me/points", token=login(url, user))
    assert status == 200 and points["balance"] == 10, points
    assert viewer.evaluate("() => window.__sameDocument") is True
    viewer.screenshot(path=str(ARTIFACTS / "quiz-viewer.png"), full_page=True)
    console.screenshot(path=str(ARTIFACTS / "poll-quiz-console.png"), full_page=True)
    for page in (console, viewer):
        assert page.problems == []
        page.context.close()


def test_keyword_lottery_from_the_console(stack, browser):
    url, _, _ = stack
    user = f"viewer-lt-{uuid.uuid4().hex[:6]}"
    console, room_id = console_with_room(browser, url, "抽奖专场")
    viewer = viewer_page(browser, url, room_id, user)

    # the host opens a keyword lottery (one winner, a 10 s entry window)
    console.select_option("[data-test=lottery-kind]", "keyword")
    console.fill("[data-test=lottery-keyword]", "我要抽奖")
    console.fill("[data-test=lottery-prize]", "保温杯一只")
    console.fill("[data-test=lottery-winners]", "1")
    console.fill("[data-test=lottery-duration]", "10")
    console.click("[data-test=open-lottery]")
    console.wait_for_selector("[data-test=ok]")
    # the viewer page pops it up; entering sends the keyword as a danmaku
    viewer.wait_for_selector("[data-test=lottery]:has-text('我要抽奖')", timeout=15_000)
    assert "保温杯一只" in viewer.inner_text("[data-test=lottery]")
    viewer.click("[data-test=lottery-enter]")
    viewer.wait_for_selector("[data-test=lottery-enter]:disabled")
    viewer.wait_for_selector("[data-test=danmaku-item]:has-text('我要抽奖')", timeout=15_000)
    # the window closes, the draw runs (drand round after the close): the winner pop-up names the prize
    viewer.wait_for_selector("[data-test=won]:has-text('保温杯一只')", timeout=60_000)
    assert viewer.evaluate("() => window.__sameDocument") is True
    viewer.screenshot(path=str(ARTIFACTS / "lottery-winner.png"), full_page=True)
    for page in (console, viewer):
        assert page.problems == []
        page.context.close()

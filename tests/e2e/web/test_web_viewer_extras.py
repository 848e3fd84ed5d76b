"""Issue 16, viewer page: the two features no other browser test drove (docs/web-viewer-extras.md).

One local stack, one live room (ffmpeg pushing), headless chromium (screenshots in .artifacts/web/):

1. Danmaku density: twelve other viewers each send three different danmaku at the same moment. The
   server's batches (at most one per 200 ms, at most one entry per sender, at most 10 entries) leave
   messages out and say how many (`dropped`). The test reads every batch the page receives from its own
   MQTT-over-WebSocket frames: the page shows one "n more not shown" line per batch that left messages
   out, right after that batch's messages, with the batch's own n; and over the burst, messages shown
   plus messages said not shown equal the messages sent.
2. A coupon chosen at checkout: the viewer holds three coupons of the room (¥5 off, 满20减3, 满100减20).
   The buy sheet of a ¥29.90 product shows the best one applied (¥5: the ¥20 one's threshold is not met,
   so it cannot be chosen); the viewer picks the ¥3 one, the sheet says what it takes off, the order is
   created with it (the API's order: discount 300, that coupon) and paid through the WeChat Pay stand-in:
   exactly one paid order of ¥26.90, the chosen coupon used, the other two still available.
"""
from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from live_helpers import login, push, wait_live
from stackproc import request
from tests.polling import poll
from web_support import ARTIFACTS, PHONE, WEB_MARKS, browser, make_product, new_page  # noqa: F401 (browser: fixture)

pytestmark = WEB_MARKS

SENDERS = 12          # more senders than a batch's 10 places
EACH = 3              # and three texts each (the per-user limit: 3 in 5 s): one entry per sender per batch


@pytest.fixture(scope="module")
def live_room(stack):
    url, _, _ = stack
    host, operator = login(url, "host-1"), login(url, "operator-1")
    start = (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": "观众页补充测试", "scheduled_start": start},
                              host)
    assert status == 201, room
    room_id = room["id"]
    product = make_product(url, operator, "选券商品")
    status, _, presets = request("PUT", f"{url}/v1/rooms/{room_id}/products", {"items": [
        {"product_id": product, "live_price": 2990, "live_stock": 20}]}, host)
    assert status == 200, presets
    status, _, ingest = request("GET", f"{url}/v1/rooms/{room_id}/ingest", token=host)
    assert status == 200, ingest
    pusher = push(ingest, 240)
    try:
        wait_live(url, room_id, pusher)
        yield {"room_id": room_id, "host": host, "product": product}
    finally:
        if pusher.poll() is None:
            pusher.kill()
            pusher.wait()


def _mqtt_publish(frame) -> tuple[str, dict] | None:
    """(topic, JSON payload) of an MQTT PUBLISH packet in one WebSocket frame (the broker sends one
    packet a frame, as IoT Core does), else None."""
    data = frame if isinstance(frame, (bytes, bytearray)) else frame.encode("latin-1")
    if not data or data[0] >> 4 != 3:
        return None
    length, multiplier, i = 0, 1, 1
    while True:                                   # remaining length: a varint
        byte = data[i]
        length += (byte & 0x7F) * multiplier
        multiplier *= 128
        i += 1
        if not byte & 0x80:
            break
    end = i + length
    topic_len = int.from_bytes(data[i:i + 2], "big")
    topic = data[i + 2:i + 2 + topic_len].decode()
    start = i + 2 + topic_len + (2 if (data[0] >> 1) & 0x03 else 0)   # packet id when QoS > 0
    try:
        return topic, json.loads(data[start:end] or b"null")
    except ValueError:
        return None


def _danmaku_batches(page) -> list[dict]:
    """Every danmaku batch the page receives over its MQTT WebSocket, in order."""
    batches: list[dict] = []

    def on_frame(payload):
        found = _mqtt_publish(payload)
        if found and found[0].endswith("/danmaku") and isinstance(found[1], dict):
            batches.append(found[1])

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return batches


def _send(url, room_id, token, text) -> int:
    return request("POST", f"{url}/v1/rooms/{room_id}/danmaku", {"text": text}, token)[0]


def test_danmaku_density_shows_each_batchs_n_more_not_shown(stack, browser, live_room):
    url, _, _ = stack
    room_id = live_room["room_id"]
    tag = uuid.uuid4().hex[:5]
    viewer = login(url, "viewer-1")
    page = new_page(browser, PHONE)
    batches = _danmaku_batches(page)
    page.goto(f"{url}/watch/{room_id}?token={viewer}")
    page.wait_for_selector("[data-test=danmaku][data-delivery=push]")

    # the page is subscribed once another viewer's danmaku shows (crowd danmaku are QoS 0)
    other = login(url, "viewer-2")
    tries: list[str] = []

    def shown():
        text = f"预热 {tag} {len(tries)}"
        tries.append(text)
        assert _send(url, room_id, other, text) == 201
        try:
            page.wait_for_selector(f"[data-test=danmaku-item]:has-text('{text}')", timeout=4_000)
            return True
        except Exception:  # noqa: BLE001 - not shown yet: say something else
            return False
    assert poll(shown, 30.0), tries
    assert page.locator("[data-test=dropped]").count() == 0     # a quiet room leaves nothing out

    # the burst: every sender's three texts at the same moment (another round with other senders, at most
    # three, if a slow machine spread one so thin that no batch had to leave anything out)
    texts: dict[str, str] = {}
    before = len(batches)
    for burst in range(3):
        senders = [login(url, f"crowd-{tag}-{burst}-{i}") for i in range(SENDERS)]
        round_texts = {f"弹幕 {tag} {burst}.{i}-{k}": token for i, token in enumerate(senders) for k in range(EACH)}
        texts.update(round_texts)
        gate = threading.Barrier(len(round_texts))

        def send(item, gate=gate):
            text, token = item
            gate.wait()
            return _send(url, room_id, token, text)
        with ThreadPoolExecutor(len(round_texts)) as pool:
            statuses = list(pool.map(send, round_texts.items()))
        assert statuses == [201] * len(round_texts), statuses

        def accounted():
            page.wait_for_timeout(100)              # Playwright delivers frames while the page runs
            got = batches[before:]
            shown_n = sum(len(b["items"]) for b in got)
            return shown_n + sum(b.get("dropped", 0) for b in got) >= len(texts) and got
        got = poll(accounted, 30.0, interval=0)
        assert got, f"batches: {batches}"
        if any(b["dropped"] for b in got):
            break
    # every message sent is either shown or counted as not shown, none twice
    shown_texts = [it["text"] for b in got for it in b["items"]]
    assert len(shown_texts) == len(set(shown_texts)) and set(shown_texts) <= set(texts), shown_texts
    assert len(shown_texts) + sum(b["dropped"] for b in got) == len(texts), got
    dropping = [b for b in got if b["dropped"] > 0]
    assert dropping, f"no batch left anything out: {got}"
    for b in got:                               # the density rules: <= 10 entries, one per sender
        assert len(b["items"]) <= 10 and len({it["user_id"] for it in b["items"]}) == len(b["items"]), b

    # the page: one line per batch that left messages out, with that batch's number, after its messages
    def lines():
        return page.eval_on_selector_all(
            "[data-test=danmaku] [data-test=dropped]", "els => els.map(e => [Number(e.dataset.n), e.innerText])")
    assert poll(lambda: len(lines()) == len(dropping), 10.0), (lines(), dropping)
    assert [n for n, _ in lines()] == [b["dropped"] for b in dropping]
    for n, text in lines():
        assert f"另有 {n} 条弹幕未显示" in text, text
    order = page.eval_on_selector_all(
        "[data-test=danmaku] .list > div",
        "els => els.map(e => e.dataset.test === 'dropped' ? 'N' + e.dataset.n : e.innerText)")
    for b in dropping:                          # the line comes right after the last message of its batch
        last = b["items"][-1]["text"] if b["items"] else None
        if last is not None:
            at = next(i for i, row in enumerate(order) if last in row)
            assert order[at + 1] == f"N{b['dropped']}", (order, b)
    # every message the batches carried is on the page
    for text in shown_texts:
        assert page.locator(f"[data-test=danmaku-item]:has-text('{text}')").count() == 1, text
    print(f"\ndanmaku density: {len(texts)} sent in {burst + 1} burst(s) of {SENDERS} viewers x {EACH} -> "
          f"{len(got)} batches, "
          f"{len(shown_texts)} shown, not shown per batch {[b['dropped'] for b in got]}")
    page.locator("[data-test=danmaku]").screenshot(path=str(ARTIFACTS / "watch-danmaku-density.png"))
    assert page.problems == []
    page.context.close()


def _coupon(url, host, viewer, room_id, name, kind, amount, threshold=0) -> dict:
    body = {"name": name, "kind": kind, "amount": amount, "total": 10, "valid_days": 7, "room_id": room_id}
    if kind == "threshold":
        body["threshold"] = threshold
    status, _, template = request("POST", f"{url}/v1/coupon-templates", body, host)
    assert status == 201, template
    status, _, drop = request("POST", f"{url}/v1/rooms/{room_id}/coupon-drops", {"template_id": template["id"]}, host)
    assert status == 201, drop
    status, _, coupon = request("POST", f"{url}/v1/coupon-drops/{drop['id']}/claim", {}, viewer,
                                {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, coupon
    return coupon


def test_checkout_with_a_coupon_chosen_from_the_list(stack, browser, live_room):
    url, _, _ = stack
    room_id, host, product = live_room["room_id"], live_room["host"], live_room["product"]
    viewer = login(url, f"buyer-{uuid.uuid4().hex[:6]}")
    five = _coupon(url, host, viewer, room_id, "五元券", "no_threshold", 500)
    three = _coupon(url, host, viewer, room_id, "满20减3", "threshold", 300, 2000)
    big = _coupon(url, host, viewer, room_id, "满100减20", "threshold", 2000, 10000)   # not for ¥29.90
    status, _, listing = request("POST", f"{url}/v1/rooms/{room_id}/products/{product}/listing", token=host)
    assert status == 200, listing

    page = new_page(browser, PHONE)
    page.goto(f"{url}/watch/{room_id}?token={viewer}")
    page.wait_for_selector("[data-test=card]:has-text('选券商品') [data-test=buy]:enabled", timeout=20_000)
    page.click("[data-test=card]:has-text('选券商品') [data-test=buy]")
    # the best coupon applied: ¥5 off (the ¥20 one would take more, but its threshold is not met)
    page.wait_for_selector(f"[data-test=coupon-applied][data-coupon='{five['id']}']", timeout=10_000)
    assert "24.90" in page.inner_text("[data-test=coupon-applied]")
    assert page.eval_on_selector("[data-test=coupon-select]", "e => e.value") == "auto"
    assert page.locator(f"[data-test=coupon-option][value='{big['id']}']").is_disabled()
    assert page.locator(f"[data-test=coupon-option][value='{three['id']}']").is_enabled()
    # the viewer picks the other one
    page.select_option("[data-test=coupon-select]", three["id"])
    page.wait_for_selector(f"[data-test=coupon-applied][data-coupon='{three['id']}']")
    applied = page.inner_text("[data-test=coupon-applied]")
    assert "满20减3" in applied and "3.00" in applied and "26.90" in applied, applied
    page.screenshot(path=str(ARTIFACTS / "watch-coupon-chosen.png"), full_page=True)
    page.click("[data-test=place-order]")
    page.wait_for_selector("[data-test=order-total]:has-text('26.90')", timeout=15_000)
    assert "3.00" in page.inner_text("[data-test=order-total]")
    page.click("[data-test=pay]")
    page.wait_for_selector("[data-test=paid]", timeout=30_000)

    status, _, orders = request("GET", f"{url}/v1/me/orders", token=viewer)
    assert status == 200, orders
    mine = [o for o in orders["items"] if o["room_id"] == room_id]
    assert [(o["state"], o["total"], o["discount"], o["coupon_id"]) for o in mine] == \
        [("paid", 2690, 300, three["id"])], mine
    status, _, held = request("GET", f"{url}/v1/me/coupons", token=viewer)
    assert status == 200, held
    assert {c["id"]: c["state"] for c in held["items"]} == \
        {five["id"]: "available", three["id"]: "used", big["id"]: "available"}, held

    # the next buy sheet opens on the best coupon again; the used one is no longer offered
    page.click("[data-test=buy-sheet] button:has-text('关闭')")
    page.click("[data-test=card]:has-text('选券商品') [data-test=buy]")
    page.wait_for_selector(f"[data-test=coupon-applied][data-coupon='{five['id']}']", timeout=10_000)
    assert page.locator(f"[data-test=coupon-option][value='{three['id']}']").count() == 0
    assert page.problems == []
    page.context.close()

"""Issue 16, outcome 3 (the operations dashboard) and outcome 4's language switch, in a real browser
(Debian's headless chromium, Playwright) against the local stack; a screenshot each under .artifacts/web/.

- After two lives with paid orders (one order shipped through the fulfilment API, one refunded through
  an after-sale and the WeChat Pay stand-in) and the day's reconciliation (the `reconciliation`
  function invoked for the day, as an operator does, through the stack's Lambda Invoke API; the payment
  stand-ins serve the bills), the dashboard shows each order's shipping and refund state and the day's
  reconciliation in plain words (matched; then, with the WeChat bill one fen off, the mismatch listed
  with its order); the funnel figures, the product table, the session and product comparisons and the
  viewer tags show exactly the report API's values. (The charts rendering and the Excel download are
  test_web_clients.py's.)
- The language: zh-CN by default, the English switch on /console/, /watch/<room> and /ops/, remembered
  on reload.
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from live_helpers import REGION, login
from stackproc import request, url_of
from tests.polling import poll
from web_support import ARTIFACTS, WEB_MARKS, browser, make_product, new_page  # noqa: F401 (browser: fixture)

pytestmark = WEB_MARKS
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "上海", "city": "上海", "district": "浦东新区",
           "detail": "世纪大道 1 号"}
SF = {"carrier": "SF", "tracking_number": "SF1234567890123"}


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:.2f}"


def _pct(rate: float) -> str:
    value = round(rate * 1000) / 10
    return f"{int(value) if value == int(value) else value}%"


def _live_room(url, host, title, product, other):
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": title, "scheduled_start": start}, host)
    assert status == 201, room
    room_id = room["id"]
    assert request("PUT", f"{url}/v1/rooms/{room_id}/products", {"items": [
        {"product_id": product, "live_price": 1290, "live_stock": 20},
        {"product_id": other, "live_price": 990, "live_stock": 20}]}, host)[0] == 200
    status, _, started = request("POST", f"{url}/v1/rooms/{room_id}/start", token=host)
    assert status == 200, started
    assert request("POST", f"{url}/v1/rooms/{room_id}/products/listing", token=host)[0] == 200
    return room_id


def _watch(url, room_id, token):
    """A viewer in the room as the player reports it: enter and heartbeat beacons with a playback token."""
    status, _, playback = request("GET", f"{url}/v1/rooms/{room_id}/playback", token=token)
    assert status == 200, playback
    now_ms = int(time.time() * 1000)
    status, _, body = request("POST", f"{url}/v1/rooms/{room_id}/events", {"events": [
        {"kind": "enter", "client_ms": now_ms, "play_id": "p1", "device_id": uuid.uuid4().hex[:8]},
        {"kind": "heartbeat", "client_ms": now_ms, "play_id": "p1"}], "realtime": True}, token,
        headers={"X-Playback-Token": playback["token"]})
    assert status == 202, body


def _paid_order(url, wechatpay, room_id, product, token, quantity):
    status, _, order = request("POST", f"{url}/v1/orders", {
        "room_id": room_id, "address": ADDRESS, "auto_coupon": False,
        "items": [{"product_id": product, "quantity": quantity}]}, token, {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, order
    status, _, prepay = request("POST", f"{url}/v1/orders/{order['id']}/payments", {"channel": "wechat"}, token,
                                {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 200, prepay
    status, _, paid = request("POST", f"{wechatpay}/__standin/pay", {"out_trade_no": order["id"]})
    assert status == 200, paid
    assert poll(lambda: request("GET", f"{url}/v1/orders/{order['id']}", token=token)[2]["state"] == "paid",
                timeout=20, interval=0.3), "the order was not paid"
    return order


def _reconcile(lines, day):
    """The reconciliation function for `day`, as an operator invokes it (Lambda's Invoke API)."""
    client = boto3.client("lambda", endpoint_url=url_of(lines, "lambda"), region_name=REGION,
                          aws_access_key_id="local", aws_secret_access_key="local")
    answer = client.invoke(FunctionName="reconciliation", Payload=json.dumps({"date": day}).encode())
    result = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, result
    return result


def test_ops_orders_refunds_shipping_reconciliation_comparisons_and_tags(stack, browser):
    url, lines, _ = stack
    wechatpay = url_of(lines, "wechatpay_standin")
    host, operator = login(url, "host-1"), login(url, "operator-1")
    one, two = login(url, "viewer-1"), login(url, "viewer-2")
    product = make_product(url, operator, "运营看板商品")
    other = make_product(url, operator, "对比商品")
    first = _live_room(url, host, "运营场次一", product, other)
    second = _live_room(url, host, "运营场次二", product, other)
    for room_id, viewers in ((first, (one, two)), (second, (one,))):
        for token in viewers:
            _watch(url, room_id, token)
    shipped = _paid_order(url, wechatpay, first, product, one, 1)
    refunded = _paid_order(url, wechatpay, first, product, two, 2)
    _paid_order(url, wechatpay, second, product, one, 1)

    # one order shipped (fulfilment API), one refunded before shipping (after-sale; the stand-in refunds it)
    status, _, body = request("POST", f"{url}/v1/orders/{shipped['id']}/shipments", SF, host)
    assert status == 200, body
    # WeChat Pay settles refunds at once (its default here is to hold them until told to)
    assert request("POST", f"{wechatpay}/__standin/refunds", {"refund_settle": "auto"})[0] == 200
    status, _, sale = request("POST", f"{url}/v1/orders/{refunded['id']}/after-sales", {}, two,
                              {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201 and sale["state"] == "approved", sale
    assert poll(lambda: request("GET", f"{url}/v1/orders/{refunded['id']}", token=two)[2]["state"] == "refunded",
                timeout=60, interval=0.5), request("GET", f"{url}/v1/orders/{refunded['id']}", token=two)[2]
    for room_id in (first, second):
        assert request("POST", f"{url}/v1/rooms/{room_id}/end", token=host)[0] == 200

    # the day's reconciliation (Beijing's bill day): both providers' bills against our records
    day = (datetime.now(timezone.utc) + timedelta(hours=8)).date().isoformat()
    outcome = _reconcile(lines, day)
    assert outcome["outcomes"] == {"wechat": "reconciled", "alipay": "reconciled"}, outcome

    page = new_page(browser)
    page.goto(f"{url}/ops/?room={first}")
    page.fill("[data-test=login-code]", "operator-1")
    page.click("[data-test=login-submit]")

    # each order's shipping and refund state, in plain words
    row = f"[data-test=order-row][data-order='{shipped['id']}']"
    page.wait_for_selector(row, timeout=20_000)
    assert page.inner_text(f"{row} [data-test=order-state]") == "已发货"
    assert page.inner_text(f"{row} [data-test=order-shipping]").startswith("已发货：")
    assert SF["tracking_number"] in page.inner_text(f"{row} [data-test=order-shipping]")
    assert page.inner_text(f"{row} [data-test=order-refund]") == "无退款"
    row = f"[data-test=order-row][data-order='{refunded['id']}']"
    assert page.inner_text(f"{row} [data-test=order-state]") == "已退款"
    assert page.inner_text(f"{row} [data-test=order-shipping]") == "—"
    assert page.inner_text(f"{row} [data-test=order-refund]") == f"已退款 {_yuan(refunded['total'])}"
    assert page.locator("[data-test=order-row]").count() == 2

    # the report's funnel figures and product table are the API's values
    page.wait_for_function("() => window.__charts >= 3", timeout=150_000)
    status, _, report = request("GET", f"{url}/v1/rooms/{first}/stats", token=operator)
    assert status == 200, report
    funnel = report["funnel"]
    assert funnel["payers"] == 2 and report["summary"]["gmv"] == shipped["total"] + refunded["total"], report
    for name in ("viewers", "clickers", "orderers", "payers"):
        assert page.inner_text(f"[data-test=funnel-{name}]") == str(funnel[name]), name
    assert page.inner_text("[data-test=funnel-conversion]") == _pct(funnel["conversion_rate"])
    (line,) = [p for p in report["products"] if p["product_id"] == product]
    row = f"[data-test=product-row][data-product='{product}']"
    page.wait_for_selector(f"{row}:has-text('运营看板商品')")        # the product's name, not its id
    assert [page.inner_text(f"{row} [data-test={c}]") for c in ("clicks", "orders", "units", "gmv")] == \
        [str(line["clicks"]), str(line["orders"]), str(line["units"]), _yuan(line["gmv"])]

    # session comparison: both sessions' figures, equal to the comparison API's
    page.fill("[data-test=compare-ids]", second)
    page.click("[data-test=compare-run]")
    page.wait_for_selector("[data-test=compare-row] >> nth=1")
    status, _, comparison = request("GET", f"{url}/v1/stats/compare?rooms={first},{second}", token=operator)
    assert status == 200 and [r["room_id"] for r in comparison["rooms"]] == [first, second], comparison
    for session in comparison["rooms"]:
        row = f"[data-test=compare-row][data-room='{session['room_id']}']"
        s = session["summary"]
        assert [page.inner_text(f"{row} [data-test={c}]") for c in
                ("viewers", "peak", "orders", "paid-orders", "gmv", "conversion")] == \
            [str(s["unique_viewers"]), str(s["peak_online"]), str(s["orders"]), str(s["paid_orders"]),
             _yuan(s["gmv"]), _pct(session["funnel"]["conversion_rate"])], session
    assert [r["summary"]["paid_orders"] for r in comparison["rooms"]] == [2, 1]
    # viewer tags, in plain words, filtered as the API filters
    page.select_option("[data-test=tag-filter]", "buyer")
    page.click("[data-test=tag-run]")
    status, _, buyers = request("GET", f"{url}/v1/rooms/{first}/viewers?tag=buyer", token=operator)
    assert status == 200 and {v["user_id"] for v in buyers["items"]} == {"viewer-1", "viewer-2"}, buyers
    page.wait_for_function("n => document.querySelectorAll('[data-test=viewer-row]').length === n",
                           arg=len(buyers["items"]))
    for viewer in buyers["items"]:
        assert "本场买家" in page.inner_text(f"[data-test=viewer-row][data-user='{viewer['user_id']}'] [data-test=tags]")

    # the day's reconciliation: matched on both channels, in plain words
    assert page.input_value("[data-test=recon-date]") == day
    page.click("[data-test=reconcile]")
    page.wait_for_selector("[data-test=reconciliation-provider]")
    for channel in ("wechat", "alipay"):
        assert page.inner_text(f"[data-test=reconciliation-provider][data-channel={channel}] [data-test=recon-outcome]") \
            .startswith("对账一致")
    wechat_row = "[data-test=reconciliation-provider][data-channel=wechat]"
    assert f"3 笔收款 {_yuan(2 * shipped['total'] + refunded['total'])}" in page.inner_text(f"{wechat_row} [data-test=recon-ours]")
    assert f"1 笔退款 {_yuan(refunded['total'])}" in page.inner_text(f"{wechat_row} [data-test=recon-bill]")
    assert page.locator("[data-test=discrepancy]").count() == 0
    # today cannot be run again from the page (its bills come tomorrow): said in plain words
    page.click("[data-test=reconcile-rerun]")
    page.wait_for_selector("[data-test=error]:has-text('今天还没过完')")
    # a WeChat bill one fen off: the run lists the mismatch with its order and both amounts
    status, _, armed = request("POST", f"{wechatpay}/__standin/bills", {"bill_fault": "amount_off"})
    assert status == 200, armed
    try:
        outcome = _reconcile(lines, day)
    finally:
        request("POST", f"{wechatpay}/__standin/bills", {"bill_fault": ""})
    assert outcome["outcomes"]["wechat"] == "discrepancies" and outcome["discrepancies"] == 1, outcome
    status, _, stored = request("GET", f"{url}/v1/reconciliation/{day}", token=operator)
    (mismatch,) = stored["discrepancies"]
    page.click("[data-test=reconcile]")
    page.wait_for_selector(f"{wechat_row} [data-test=recon-outcome]:has-text('对账不一致：1 处差异')")
    assert page.inner_text("[data-test=reconciliation-provider][data-channel=alipay] [data-test=recon-outcome]") \
        .startswith("对账一致")
    listed = page.inner_text("[data-test=discrepancy]")
    assert mismatch["kind"] == "amount_mismatch" and mismatch["order_id"] in listed, (mismatch, listed)
    assert f"我方 {_yuan(mismatch['ours'])}，账单 {_yuan(mismatch['bill'])}" in listed, listed
    assert "收款金额不一致" in listed and listed.startswith("微信支付"), listed
    page.screenshot(path=str(ARTIFACTS / "ops-status.png"), full_page=True)
    assert page.problems == []

    # product comparison: over the caller's own sessions (GET /v1/stats/compare?products=), so the host's
    # page: the two products across both lives, equal to the comparison API's values
    page = new_page(browser)
    page.goto(f"{url}/ops/?room={first}")
    page.fill("[data-test=login-code]", "host-1")
    page.click("[data-test=login-submit]")
    page.wait_for_function("() => window.__charts >= 3", timeout=60_000)
    page.fill("[data-test=compare-products]", f"{product}, {other}")
    page.click("[data-test=compare-products-run]")
    page.wait_for_selector("[data-test=product-compare-row] >> nth=1")
    status, _, by_product = request("GET", f"{url}/v1/stats/compare?products={product},{other}", token=host)
    assert status == 200, by_product
    totals = {p["product_id"]: p for p in by_product["products"]}
    assert (totals[product]["sessions"], totals[product]["units"], totals[other]["units"]) == (2, 4, 0), totals
    for product_id, name in ((product, "运营看板商品"), (other, "对比商品")):
        row = f"[data-test=product-compare-row][data-product='{product_id}']"
        page.wait_for_selector(f"{row}:has-text('{name}')")
        assert [page.inner_text(f"{row} [data-test={c}]") for c in ("sessions", "clicks", "orders", "units", "gmv")] \
            == [str(totals[product_id][c]) for c in ("sessions", "clicks", "orders", "units")] + \
            [_yuan(totals[product_id]["gmv"])]
    page.screenshot(path=str(ARTIFACTS / "ops-products.png"), full_page=True)
    assert page.problems == []


def test_each_page_is_chinese_by_default_with_an_english_switch_remembered(stack, browser):
    url, _, _ = stack
    host, viewer = login(url, "host-1"), login(url, "viewer-1")
    start = (datetime.now(timezone.utc) + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": "语言切换", "scheduled_start": start}, host)
    assert status == 201, room
    pages = (("console", f"{url}/console/", "[data-test=login-submit]", "登录", "Log in"),
             ("watch", f"{url}/watch/{room['id']}?token={viewer}", "[data-test=reserve]", "预约直播", "Remind me"),
             ("ops", f"{url}/ops/", "[data-test=load-report]", "加载报告", "Load report"))
    for name, address, label, chinese, english in pages:
        page = new_page(browser, {"width": 390, "height": 844} if name == "watch" else None)
        page.goto(address)
        page.wait_for_selector(f"{label}:has-text('{chinese}')")
        assert page.evaluate("() => document.documentElement.lang") in ("zh-CN", "zh"), name
        assert page.inner_text("[data-test=lang]") == "English"
        page.click("[data-test=lang]")
        page.wait_for_selector(f"{label}:has-text('{english}')")
        assert page.inner_text("[data-test=lang]") == "中文"
        page.reload()
        page.wait_for_selector(f"{label}:has-text('{english}')")     # remembered
        assert page.evaluate("() => document.documentElement.lang") == "en", name
        page.screenshot(path=str(ARTIFACTS / f"lang-{name}.png"), full_page=True)
        page.click("[data-test=lang]")                                 # and back to Chinese
        page.wait_for_selector(f"{label}:has-text('{chinese}')")
        assert page.problems == [], (name, page.problems)
        page.context.close()

"""Analytics end to end on `make local` (issue 11): a host starts a room; two viewers connect over
MQTT (the local broker, authorized by the realtime authorizer) and post beacons through the local
gateway (the beacon route's authorizer, validator, VTL and the Firehose stand-in); one likes, buys
and pays through the WeChat Pay stand-in. The host reads GET /stats/live (online 2, orders 1, GMV)
and receives a live-figures push on the room's staff topic. The room ends; GET /stats is ready with
the exact figures (the seconds from the end to ready are printed) and stats.xlsx downloads and opens
with openpyxl."""
from __future__ import annotations

import io
import json
import queue
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from stackproc import request, url_of
from tests.polling import poll

pytestmark = pytest.mark.e2e
paho = pytest.importorskip("paho.mqtt.client")
openpyxl = pytest.importorskip("openpyxl")
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州", "district": "西湖区",
           "detail": "文三路 1 号"}


def _login(url: str, wechat: str) -> str:
    status, _, minted = request("POST", f"{wechat}/__standin/codes", {"openid": f"o-an-{uuid.uuid4().hex[:8]}"})
    assert status == 200, minted
    status, _, login = request("POST", f"{url}/v1/auth/login", {"provider": "wechat", "code": minted["code"]})
    assert status == 200, login
    return login["token"]


class Mqtt:
    """A paho client with the credentials GET /realtime hands out."""

    def __init__(self, realtime: dict, *, username: str | None = None) -> None:
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: "queue.Queue[tuple[str, dict]]" = queue.Queue()
        self.subscribed: "queue.Queue[list[int]]" = queue.Queue()
        ws = urlsplit(realtime["endpoint"])
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=realtime["client_id"],
                                  transport="websockets", protocol=paho.MQTTv311)
        self.client.ws_set_options(path=ws.path + (f"?{ws.query}" if ws.query else ""))
        self.client.username_pw_set(username or realtime["credentials"]["username"],
                                    realtime["credentials"]["password"])
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.put(
            [int(getattr(r, "value", r)) for r in rcs])
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, json.loads(m.payload or b"{}")))
        self.client.connect(ws.hostname, ws.port, keepalive=30)
        self.client.loop_start()

    def subscribe(self, topic: str) -> list[int]:
        self.client.subscribe(topic, qos=1)
        return self.subscribed.get(timeout=10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_live_figures_push_and_the_post_live_report(stack):
    url, lines, _proc = stack
    wechat, wechatpay = url_of(lines, "wechat_standin"), url_of(lines, "wechatpay_standin")
    host = request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": "host-1"})[2]["token"]
    operator = request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": "operator-1"})[2]["token"]
    buyer, watcher = _login(url, wechat), _login(url, wechat)
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": "E2E 数据", "scheduled_start": start}, host)
    assert status == 201, room
    room_id = room["id"]
    status, _, product = request("POST", f"{url}/v1/products", {"name": "数据商品", "list_price": 1990,
                                                                "stock": 100}, operator)
    assert status == 201, product
    assert request("PUT", f"{url}/v1/rooms/{room_id}/products", {"items": [
        {"product_id": product["id"], "live_price": 1290, "live_stock": 20}]}, host)[0] == 200
    status, _, started = request("POST", f"{url}/v1/rooms/{room_id}/start", token=host)
    assert status == 200, started
    assert request("POST", f"{url}/v1/rooms/{room_id}/products/{product['id']}/listing", token=host)[0] == 200

    clients = []
    try:
        # the host on the room's staff topic (the realtime policy opens it to the room's host)
        status, _, host_rt = request("GET", f"{url}/v1/rooms/{room_id}/realtime", token=host)
        assert status == 200, host_rt
        staff_topic = host_rt["topics"]["events"].rsplit("/", 1)[0] + "/staff"
        console = Mqtt(host_rt)
        clients.append(console)
        assert console.subscribe(staff_topic) == [1]
        # two viewers: MQTT on the room's events topic, a playback token, beacons through the gateway
        for token in (buyer, watcher):
            status, _, rt = request("GET", f"{url}/v1/rooms/{room_id}/realtime", token=token)
            assert status == 200, rt
            if token is watcher:     # a viewer never gets the staff topic (its own connection: a refusal may end it)
                status, _, probe_rt = request("GET", f"{url}/v1/rooms/{room_id}/realtime", token=token)
                probe = Mqtt(probe_rt, username=f"{room_id}?staff=1")
                assert probe.subscribe(staff_topic) == [0x80]
                probe.close()
            viewer = Mqtt(rt)
            clients.append(viewer)
            assert viewer.subscribe(rt["topics"]["events"]) == [1]
            status, _, playback = request("GET", f"{url}/v1/rooms/{room_id}/playback", token=token)
            assert status == 200, playback
            now_ms = int(time.time() * 1000)
            status, _, body = request("POST", f"{url}/v1/rooms/{room_id}/events", {"events": [
                {"kind": "enter", "client_ms": now_ms, "play_id": "p1", "device_id": uuid.uuid4().hex[:8]},
                {"kind": "heartbeat", "client_ms": now_ms, "play_id": "p1"}], "realtime": True}, token,
                headers={"X-Playback-Token": playback["token"]})
            assert status == 202 and body == {"accepted": 2}, body
        assert request("POST", f"{url}/v1/rooms/{room_id}/likes", {"count": 3}, buyer)[0] == 202
        status, _, order = request("POST", f"{url}/v1/orders", {
            "room_id": room_id, "address": ADDRESS, "items": [{"product_id": product["id"], "quantity": 2}]},
            buyer, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert status == 201, order
        assert request("POST", f"{url}/v1/orders/{order['id']}/payments", {"channel": "wechat"}, buyer,
                       headers={"Idempotency-Key": uuid.uuid4().hex})[0] == 200
        status, _, paid = request("POST", f"{wechatpay}/__standin/pay", {"out_trade_no": order["id"]})
        assert status == 200, paid
        gmv = order["total"]

        def live():
            figures = request("GET", f"{url}/v1/rooms/{room_id}/stats/live", token=host)[2]
            return figures if (figures["online"], figures["orders"], figures["gmv"]) == (2, 1, gmv) else None
        figures = poll(live, timeout=20, interval=0.5)
        assert figures, json.dumps(request("GET", f"{url}/v1/rooms/{room_id}/stats/live", token=host)[2])
        print(f"\nlive figures: online {figures['online']}, peak {figures['peak_online']}, cumulative "
              f"{figures['cumulative_viewers']}, orders {figures['orders']}, GMV {figures['gmv']} fen")
        deadline = time.monotonic() + 15
        pushed = None
        while time.monotonic() < deadline and pushed is None:
            topic, message = console.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            if topic == staff_topic and message.get("type") == "live_stats" and message.get("orders") == 1:
                pushed = message
        assert pushed and pushed["room_id"] == room_id and pushed["gmv"] == gmv

        # players see the end and say so (a leave beacon), then the room ends
        status, _, ended = request("POST", f"{url}/v1/rooms/{room_id}/end", token=host)
        assert status == 200, ended
        ended_at = time.monotonic()
        for token in (buyer, watcher):
            playback_header = f"none:{room_id}"
            request("POST", f"{url}/v1/rooms/{room_id}/events", {"events": [
                {"kind": "leave", "client_ms": int(time.time() * 1000), "play_id": "p1"}]}, token,
                headers={"X-Playback-Token": playback_header})
    finally:
        for client in clients:
            client.close()

    # right after the end the store may still be catching up: 409 report_not_ready, nothing stored
    status, headers, early = request("GET", f"{url}/v1/rooms/{room_id}/stats", token=host)
    assert (status, early["code"]) == (409, "report_not_ready") and int(headers["Retry-After"]) >= 1, early

    def ready():
        status, _, report = request("GET", f"{url}/v1/rooms/{room_id}/stats", token=host)
        if status != 200 or not report.get("ended_at"):
            return None
        s = report["summary"]
        return report if (s["unique_viewers"], s["paid_orders"], s["gmv"], s["likes"]) == (2, 1, gmv, 3) else None
    report = poll(ready, timeout=45, interval=1)
    assert report, json.dumps(request("GET", f"{url}/v1/rooms/{room_id}/stats", token=host)[2])
    print(f"\npost-live report ready {time.monotonic() - ended_at:.1f} s after the room ended")
    s = report["summary"]
    print(f"report: unique viewers {s['unique_viewers']}, views {s['views']}, orders {s['orders']}, paid "
          f"{s['paid_orders']}, GMV {s['gmv']} fen, average order {s['average_order_value']} fen, likes {s['likes']}")
    assert (s["orders"], s["average_order_value"], s["views"]) == (1, gmv, 2)
    assert report["funnel"]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    xlsx = urllib.request.Request(f"{url}/v1/rooms/{room_id}/stats.xlsx", headers={"Authorization": f"Bearer {host}"})
    try:
        urllib.request.build_opener(NoRedirect).open(xlsx, timeout=30)
        raise AssertionError("stats.xlsx should answer 303 with a presigned link")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303, answer.code
        link = answer.headers["Location"]
    with urllib.request.urlopen(link, timeout=10) as response:
        workbook = openpyxl.load_workbook(io.BytesIO(response.read()))
    assert {"Summary", "Per minute", "Products", "Viewers"} <= set(workbook.sheetnames)

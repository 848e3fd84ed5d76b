"""Commerce fixtures: a live room with listed products, and the payment stand-ins
wired to the API Gateway emulation (notifications arrive in process). Each commerce
context's conftest imports them (tests/integration/<context>/conftest.py)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

ADDRESS = {"name": "张三", "phone": "13800138000", "province": "浙江", "city": "杭州", "district": "西湖区",
           "detail": "文三路 1 号"}
PAYMENTS_SECRET = "livecommerce-local/payment-providers"


def key() -> str:
    return "k-" + uuid.uuid4().hex


def future(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class Clock:
    """A settable "now" for the commerce code, so a test steps past a start or an expiry
    instead of sleeping until it (a sleep races the work done meanwhile on a loaded machine).
    `patch` puts it in place of modules' `utcnow`; `feed` passes it to a due query's
    `now_epoch`. Until `set`, it is the real time."""

    def __init__(self, monkeypatch) -> None:
        self._monkeypatch = monkeypatch
        self._at: datetime | None = None

    def now(self) -> datetime:
        return self._at if self._at is not None else datetime.now(timezone.utc)

    def set(self, at: datetime) -> None:
        self._at = at

    def patch(self, *modules) -> "Clock":
        for module in modules:
            self._monkeypatch.setattr(module, "utcnow", self.now)
        return self

    def feed(self, module, query: str) -> "Clock":
        real = getattr(module, query)
        self._monkeypatch.setattr(module, query, lambda **kw: real(now_epoch=self.now().timestamp(), **kw))
        return self


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture(autouse=True)
def timer_requests(monkeypatch) -> list[dict]:
    """Timers asked of the commerce clock (shared.timers), recorded instead of invoked: a
    real one would sleep in a background thread past the test. `real_timers` lets them run."""
    from livecommerce.shared import timers

    asked: list[dict] = []
    monkeypatch.setattr(timers, "invoke_async", lambda callee, payload: asked.append(payload["timer"]) or True)
    return asked


@pytest.fixture
def real_timers(timer_requests, monkeypatch):
    from livecommerce.shared import timers
    from livecommerce.shared import async_invoke

    monkeypatch.setattr(timers, "invoke_async", async_invoke.invoke_async)


@pytest.fixture
def bus(monkeypatch) -> list[tuple[str, dict, datetime]]:
    """Domain events as they are put on the bus: (detail type, detail, when)."""
    from livecommerce.shared import events

    seen: list[tuple[str, dict, datetime]] = []
    real = events.publish

    def publish(detail_type, detail, **kw):
        real(detail_type, detail, **kw)
        seen.append((detail_type, detail, datetime.now(timezone.utc)))

    real_many = events.publish_many

    def publish_many(entries):   # the outbox's batches
        taken = real_many(entries)
        now = datetime.now(timezone.utc)
        seen.extend((detail_type, detail, now) for (detail_type, detail), ok in zip(entries, taken) if ok)
        return taken

    monkeypatch.setattr(events, "publish", publish)
    monkeypatch.setattr(events, "publish_many", publish_many)
    return seen


@pytest.fixture(autouse=True)
def commerce_caches():
    """Autouse, and public so that the conftests' `import *` registers it."""
    from livecommerce.orders import flash
    from livecommerce.payments import credentials

    flash.clear_cache()
    credentials.clear_cache()
    yield
    flash.clear_cache()
    credentials.clear_cache()


class Shop:
    """Drives the API as operators, hosts and viewers do."""

    def __init__(self, api, tokens_for) -> None:
        self.api = api
        self.token = tokens_for

    def call(self, method, path, user=None, body=None, idem=None, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if idem is not None:
            headers["Idempotency-Key"] = idem
        return self.api.call(method, path, json_body=body, token=self.token(user) if user else None,
                             headers=headers, **kw)

    def ok(self, response, status=(200, 201)):
        statuses = status if isinstance(status, tuple) else (status,)
        assert response.status in statuses, (response.status, response.body)
        return response.json()

    def room(self, host="host-1"):
        return self.ok(self.call("POST", "/v1/rooms", host, {"title": "直播好物", "scheduled_start": future(3600)}))["id"]

    def product(self, *, stock=100, list_price=19900, name="羊毛围巾"):
        return self.ok(self.call("POST", "/v1/products", "operator-1", {
            "name": name, "images": ["https://img.example.com/p.jpg"], "description": "好物", "list_price": list_price,
            "stock": stock}))["id"]

    def preset(self, room_id, items, host="host-1"):
        return self.ok(self.call("PUT", f"/v1/rooms/{room_id}/products", host, {"items": items}))

    def list_all(self, room_id, host="host-1"):
        return self.ok(self.call("POST", f"/v1/rooms/{room_id}/products/listing", host))

    def listed_room(self, *, stock=100, live_stock=20, live_price=9900, products=1):
        room_id = self.room()
        ids = [self.product(stock=stock, name=f"商品{i}") for i in range(products)]
        self.preset(room_id, [{"product_id": pid, "display_order": i, "live_price": live_price,
                               "live_stock": live_stock, "promotion_note": "直播专享"} for i, pid in enumerate(ids)])
        self.list_all(room_id)
        return room_id, ids

    def order(self, user, room_id, items, idem=None, **extra):
        body = {"room_id": room_id, "items": items, "address": ADDRESS, **extra}
        return self.call("POST", "/v1/orders", user, body, idem=idem or key())

    def cards(self, room_id):
        return {c["product_id"]: c for c in self.ok(self.call("GET", f"/v1/rooms/{room_id}/cards"))["items"]}

    def template(self, room_id, host="host-1", **overrides):
        body = {"name": "满100减20", "kind": "threshold", "amount": 2000, "threshold": 10000, "total": 100,
                "per_user_limit": 1, "valid_days": 7, "room_id": room_id, **overrides}
        return self.ok(self.call("POST", "/v1/coupon-templates", host, body))

    def drop(self, room_id, template_id, host="host-1", **overrides):
        return self.ok(self.call("POST", f"/v1/rooms/{room_id}/coupon-drops", host,
                                 {"template_id": template_id, **overrides}))

    def claim(self, user, drop_id, idem=None):
        return self.call("POST", f"/v1/coupon-drops/{drop_id}/claim", user, idem=idem or key())

    def flash_sale(self, room_id, product_id, *, stock=10, price=990, limit=1, duration=600, host="host-1", **extra):
        return self.ok(self.call("POST", f"/v1/rooms/{room_id}/flash-sales", host, {
            "product_id": product_id, "price": price, "stock": stock, "duration_seconds": duration,
            "per_user_limit": limit, **extra}))

    def buy(self, user, sale_id, quantity=1, idem=None):
        return self.call("POST", f"/v1/flash-sales/{sale_id}/orders", user,
                         {"quantity": quantity, "address": ADDRESS}, idem=idem or key())


@pytest.fixture
def shop(api, tokens_for, ivs_env):
    return Shop(api, tokens_for)


def table_items(session, table: str, prefix: str = ""):
    items, start = [], None
    t = session.resource("dynamodb").Table(f"livecommerce-local-{table}")
    while True:
        page = t.scan(**({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return [i for i in items if str(i.get("pk", "")).startswith(prefix)]


class InProcessSender:
    """Delivers a provider's notification through the API Gateway emulation, as the provider's POST would."""

    def __init__(self, api) -> None:
        self.api = api
        self.calls = 0

    def __call__(self, url: str, headers: dict[str, str], body: bytes):
        from urllib.parse import urlsplit

        self.calls += 1
        response = self.api.call("POST", urlsplit(url).path, headers=headers, raw_body=body)
        return response.status, response.body


@pytest.fixture
def payments(api, aws_env, monkeypatch):
    """Both payment stand-ins, the payments secret holding the keys they accept, notifications in process."""
    from local.standins.alipay_pay import AlipayPayStandIn
    from local.standins.wechatpay_api import WeChatPayStandIn

    wechat, wechat_config = WeChatPayStandIn.with_fresh_merchant(appid="wx-test-app")
    alipay, alipay_config = AlipayPayStandIn.with_fresh_app("2021000000000042")
    wechat.start()
    alipay.start()
    sender = InProcessSender(api)
    wechat.sender = alipay.sender = sender
    aws_env.client("secretsmanager").create_secret(
        Name=PAYMENTS_SECRET, SecretString=json.dumps({"wechatpay": wechat_config, "alipay": alipay_config}))
    monkeypatch.setenv("PAYMENTS_SECRET_ID", PAYMENTS_SECRET)
    monkeypatch.setenv("WECHATPAY_API_BASE", wechat.base_url)
    monkeypatch.setenv("ALIPAY_PAY_GATEWAY", alipay.gateway_url)
    monkeypatch.setenv("PAYMENT_NOTIFY_BASE", "https://api.local.test")
    yield wechat, alipay
    wechat.stop()
    alipay.stop()

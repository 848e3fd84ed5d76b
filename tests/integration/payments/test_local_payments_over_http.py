"""The local stage's payment path over real HTTP: the local API server, the demo
products, and the payment stand-ins posting their notifications to it."""
from __future__ import annotations

import json
import urllib.request

import pytest

from tests.integration.commerce_fixtures import ADDRESS, key

pytestmark = pytest.mark.integration


def _http(method, url, body=None, token=None, idem=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if idem:
        request.add_header("Idempotency-Key", idem)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@pytest.fixture
def local_api(shop, seeded):
    from local.http_api import LocalApiServer

    with LocalApiServer("127.0.0.1", 0) as server:
        yield server.url


def test_seed_products_is_idempotent_and_demo_coupon_is_redeemable(shop, seeded):
    from livecommerce.marketing import service as marketing
    from local.seed import DEMO_PRODUCTS, POINTS_TEMPLATE_ID, seed_products

    # The `seeded` fixture ran the local seed, which now includes the commerce demo data:
    # seeding again creates nothing and reports the same products.
    assert seed_products() == {"products": len(DEMO_PRODUCTS), "commerce_created": 0}
    assert seed_products()["commerce_created"] == 0
    product = shop.ok(shop.call("GET", f"/v1/products/{DEMO_PRODUCTS[0][0]}"))
    assert product["name"] == DEMO_PRODUCTS[0][1] and product["stock"] == DEMO_PRODUCTS[0][3]
    marketing.award_points("viewer-1", 500, reason="demo", ref="demo:1")
    redeemed = shop.call("POST", "/v1/points/redemptions", "viewer-1", {"template_id": POINTS_TEMPLATE_ID}, idem=key())
    assert redeemed.status == 201, redeemed.body


@pytest.mark.parametrize("channel", ["wechat", "alipay"])
def test_pay_on_the_local_stage_over_http(shop, seeded, local_api, channel):
    from local.seed import DEMO_PRODUCTS, seed_products
    from local.seed_commerce import start_payment_standins

    seed_products()
    standins = start_payment_standins(seeded, api_url=local_api)
    try:
        room_id = shop.room()
        pid = DEMO_PRODUCTS[2][0]
        shop.preset(room_id, [{"product_id": pid, "live_price": 6900, "live_stock": 10}])
        shop.list_all(room_id)
        token = shop.token("viewer-1")
        status, order = _http("POST", f"{local_api}/v1/orders", {"room_id": room_id, "address": ADDRESS,
                                                                 "items": [{"product_id": pid, "quantity": 1}]},
                              token, key())
        assert status == 201, order
        status, params = _http("POST", f"{local_api}/v1/orders/{order['id']}/payments", {"channel": channel},
                               token, key())
        assert status == 200, params
        # The buyer pays in the mini-program: the stand-in is told over its control API.
        base = standins.wechat.base_url if channel == "wechat" else standins.alipay.base_url
        status, paid = _http("POST", f"{base}/__standin/pay", {"out_trade_no": order["id"]})
        assert status == 200 and paid["acknowledged"] is True, paid
        status, now = _http("GET", f"{local_api}/v1/orders/{order['id']}", token=token)
        assert now["state"] == "paid" and now["payment"]["channel"] == channel
    finally:
        standins.stop()


def test_seed_products_creates_the_demo_catalog_once_on_an_empty_store(aws_env):
    from local.seed import DEMO_PRODUCTS, seed_products

    assert seed_products() == {"products": len(DEMO_PRODUCTS), "commerce_created": len(DEMO_PRODUCTS) + 1}
    assert seed_products()["commerce_created"] == 0

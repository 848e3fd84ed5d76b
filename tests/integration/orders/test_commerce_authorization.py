"""Every commerce route against anonymous, viewer, host of another room, host and operator.

COMMERCE_MATRIX has the same shape as MATRIX in tests/integration/test_authorization_matrix.py
(route key -> (request builder taking host-1's room id, outcome per caller)), so the central
matrix can take these rows with MATRIX.update(COMMERCE_MATRIX)."""
from __future__ import annotations

import pytest

from livecommerce import manifest

pytestmark = pytest.mark.integration

CALLERS = ("anonymous", "viewer", "other_host", "host", "operator")
USER_OF = {"viewer": "viewer-1", "other_host": "host-2", "host": "host-1", "operator": "operator-1"}
ALLOWED, UNAUTHENTICATED, FORBIDDEN = "allowed", 401, 403
EVERYONE = dict.fromkeys(CALLERS, ALLOWED)
LOGGED_IN = {"anonymous": UNAUTHENTICATED, **dict.fromkeys(CALLERS[1:], ALLOWED)}
OPERATORS = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": FORBIDDEN, "host": FORBIDDEN,
             "operator": ALLOWED}
HOSTS = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": ALLOWED, "host": ALLOWED,
         "operator": ALLOWED}
ROOM_HOST = {"anonymous": UNAUTHENTICATED, "viewer": FORBIDDEN, "other_host": FORBIDDEN, "host": ALLOWED,
             "operator": ALLOWED}
NONE = "01ARZ3NDEKTSV4RRFFQ69G5FAV"   # a well-formed id of nothing

COMMERCE_MATRIX = {
    "POST /v1/products": (lambda r: ("POST", "/v1/products", {"name": "m", "list_price": 100, "stock": 1}),
                          OPERATORS),
    "GET /v1/products/{product_id}": (lambda r: ("GET", f"/v1/products/{NONE}", None), EVERYONE),
    "PATCH /v1/products/{product_id}": (lambda r: ("PATCH", f"/v1/products/{NONE}", {"name": "n"}), OPERATORS),
    "PUT /v1/rooms/{room_id}/products": (lambda r: ("PUT", f"/v1/rooms/{r}/products", {"items": []}), ROOM_HOST),
    "GET /v1/rooms/{room_id}/products": (lambda r: ("GET", f"/v1/rooms/{r}/products", None), ROOM_HOST),
    "POST /v1/rooms/{room_id}/products/listing": (lambda r: ("POST", f"/v1/rooms/{r}/products/listing", None),
                                                  ROOM_HOST),
    "DELETE /v1/rooms/{room_id}/products/listing": (lambda r: ("DELETE", f"/v1/rooms/{r}/products/listing", None),
                                                    ROOM_HOST),
    "POST /v1/rooms/{room_id}/products/{product_id}/listing": (
        lambda r: ("POST", f"/v1/rooms/{r}/products/{NONE}/listing", None), ROOM_HOST),
    "DELETE /v1/rooms/{room_id}/products/{product_id}/listing": (
        lambda r: ("DELETE", f"/v1/rooms/{r}/products/{NONE}/listing", None), ROOM_HOST),
    "GET /v1/rooms/{room_id}/cards": (lambda r: ("GET", f"/v1/rooms/{r}/cards", None), EVERYONE),
    "POST /v1/orders": (lambda r: ("POST", "/v1/orders", {"room_id": r, "items": [{"product_id": NONE,
                                                                                  "quantity": 1}]}), LOGGED_IN),
    "GET /v1/orders/{order_id}": (lambda r: ("GET", f"/v1/orders/{NONE}", None), LOGGED_IN),
    "GET /v1/me/orders": (lambda r: ("GET", "/v1/me/orders", None), LOGGED_IN),
    "GET /v1/rooms/{room_id}/orders": (lambda r: ("GET", f"/v1/rooms/{r}/orders", None), ROOM_HOST),
    "POST /v1/orders/{order_id}/cancel": (lambda r: ("POST", f"/v1/orders/{NONE}/cancel", None), LOGGED_IN),
    "POST /v1/rooms/{room_id}/flash-sales": (
        lambda r: ("POST", f"/v1/rooms/{r}/flash-sales", {"product_id": NONE, "price": 1, "stock": 1,
                                                           "duration_seconds": 60}), ROOM_HOST),
    "GET /v1/rooms/{room_id}/flash-sales": (lambda r: ("GET", f"/v1/rooms/{r}/flash-sales", None), EVERYONE),
    "GET /v1/flash-sales/{sale_id}": (lambda r: ("GET", f"/v1/flash-sales/{NONE}", None), EVERYONE),
    "POST /v1/flash-sales/{sale_id}/orders": (lambda r: ("POST", f"/v1/flash-sales/{NONE}/orders", {}), LOGGED_IN),
    # Of no sale, a host is answered 404 like the operator; a host of a real sale gets 403 operator_required
    # (tests/integration/orders/test_flash_scale.py, and the test-room matrix).
    "POST /v1/flash-sales/{sale_id}/prewarm": (lambda r: ("POST", f"/v1/flash-sales/{NONE}/prewarm", None), HOSTS),
    "POST /v1/orders/{order_id}/payments": (lambda r: ("POST", f"/v1/orders/{NONE}/payments",
                                                       {"channel": "wechat"}), LOGGED_IN),
    "POST /v1/payments/wechat/notify": (lambda r: ("POST", "/v1/payments/wechat/notify", {"id": "x"}), EVERYONE),
    "POST /v1/payments/alipay/notify": (lambda r: ("POST", "/v1/payments/alipay/notify", {"a": "b"}), EVERYONE),
    # Refund notifications are provider callbacks too: no caller, the signature decides (FAIL / failure).
    "POST /v1/payments/wechat/refund-notify": (lambda r: ("POST", "/v1/payments/wechat/refund-notify", {"id": "x"}),
                                               EVERYONE),
    "POST /v1/payments/alipay/refund-notify": (lambda r: ("POST", "/v1/payments/alipay/refund-notify", {"a": "b"}),
                                               EVERYONE),
    "POST /v1/coupon-templates": (lambda r: ("POST", "/v1/coupon-templates", {
        "name": "m", "kind": "no_threshold", "amount": 100, "total": 1, "valid_days": 1}), HOSTS),
    "POST /v1/rooms/{room_id}/coupon-drops": (lambda r: ("POST", f"/v1/rooms/{r}/coupon-drops",
                                                         {"template_id": NONE}), ROOM_HOST),
    "GET /v1/coupon-drops/{drop_id}": (lambda r: ("GET", f"/v1/coupon-drops/{NONE}", None), EVERYONE),
    "POST /v1/coupon-drops/{drop_id}/claim": (lambda r: ("POST", f"/v1/coupon-drops/{NONE}/claim", None),
                                              LOGGED_IN),
    "GET /v1/me/coupons": (lambda r: ("GET", "/v1/me/coupons", None), LOGGED_IN),
    "POST /v1/rooms/{room_id}/shares": (lambda r: ("POST", f"/v1/rooms/{r}/shares", None), LOGGED_IN),
    "POST /v1/shares/{code}/arrivals": (lambda r: ("POST", "/v1/shares/ABCDEFGH23/arrivals", None), LOGGED_IN),
    "GET /v1/me/points": (lambda r: ("GET", "/v1/me/points", None), LOGGED_IN),
    "POST /v1/points/redemptions": (lambda r: ("POST", "/v1/points/redemptions", {"template_id": NONE}),
                                    LOGGED_IN),
}


def test_every_commerce_route_has_a_row():
    """Every row here is a commerce route, and every commerce route has a row: here, or in the central
    matrix (the fulfilment, after-sale and reconciliation rows, which need their own fixtures' ids)."""
    from tests.integration.shared.test_authorization_matrix import MATRIX   # it imports this module's rows

    commerce = {r.key for c in ("catalog", "orders", "payments", "marketing") for r in manifest.BY_CONTEXT[c].routes}
    assert set(COMMERCE_MATRIX) <= commerce
    assert commerce - set(COMMERCE_MATRIX) - set(MATRIX) == set()


@pytest.fixture
def room_of_host_1(shop):
    return shop.room()


@pytest.mark.parametrize("route_key", sorted(COMMERCE_MATRIX))
def test_commerce_route_against_every_caller(shop, room_of_host_1, route_key):
    build, expected = COMMERCE_MATRIX[route_key]
    for caller in CALLERS:
        method, path, body = build(room_of_host_1)
        response = shop.api.call(method, path, json_body=body,
                                 token=shop.token(USER_OF[caller]) if caller != "anonymous" else None)
        outcome = expected[caller]
        assert response.status < 500, (route_key, caller, response.body)
        if outcome == ALLOWED:
            assert response.status not in (401, 403), (route_key, caller, response.body)
        else:
            assert response.status == outcome, (route_key, caller, response.status, response.body)
            assert response.json()["code"] in {"unauthorized", "operator_required", "host_required", "forbidden",
                                               "not_room_host"}

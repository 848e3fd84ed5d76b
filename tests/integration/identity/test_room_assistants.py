"""Room assistants through the real entry points on moto (issue 14, outcome 6): a host names
assistants for a room or all their rooms; they moderate, list and unlist, drop coupons, and never
touch prices, stock or payouts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.integration

START = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()


def _ok(api, method, path, token, body=None, status=(200, 201)):
    response = api.call(method, path, token=token, json_body=body)
    assert response.status in status, (method, path, response.status, response.body)
    return response.json() if response.body else None


def _refused(api, method, path, token, body=None, status=403, code=None):
    response = api.call(method, path, token=token, json_body=body)
    assert response.status == status, (method, path, response.status, response.body)
    assert response.headers.get("Content-Type", "").startswith("application/problem+json")
    if code:
        assert response.json()["code"] == code, response.body
    return response.json()


@pytest.fixture
def shop(api, tokens_for, ivs_env):
    host, operator = tokens_for("host-1"), tokens_for("operator-1")
    room = _ok(api, "POST", "/v1/rooms", host, {"title": "助理专场", "scheduled_start": START})["id"]
    other_room = _ok(api, "POST", "/v1/rooms", host, {"title": "第二场", "scheduled_start": START})["id"]
    product = _ok(api, "POST", "/v1/products", operator, {"name": "围巾", "list_price": 9900, "stock": 50})["id"]
    _ok(api, "PUT", f"/v1/rooms/{room}/products", host,
        {"items": [{"product_id": product, "live_price": 5900, "live_stock": 10}]})
    template = _ok(api, "POST", "/v1/coupon-templates", host,
                   {"name": "直播券", "kind": "no_threshold", "amount": 500, "total": 10, "valid_days": 1,
                    "room_id": room})["id"]
    return {"room": room, "other_room": other_room, "product": product, "template": template}


def test_room_assistant_acts_for_the_host_and_never_on_prices_stock_or_payouts(api, tokens_for, shop):
    host, helper = tokens_for("host-1"), tokens_for("viewer-3")
    room, other, product = shop["room"], shop["other_room"], shop["product"]

    # Before being named: a viewer, refused as on any host route.
    _refused(api, "PUT", f"/v1/rooms/{room}/mutes/viewer-2", helper, {"duration_seconds": 60}, code="host_required")

    grant = _ok(api, "PUT", f"/v1/rooms/{room}/assistants/viewer-3", host, {})
    assert grant["room_id"] == room and grant["host_id"] == "host-1"
    assert set(grant["capabilities"]) == {"moderate", "list_products", "drop_coupons", "run_lotteries", "run_polls"}
    listed = _ok(api, "GET", f"/v1/rooms/{room}/assistants", host)["items"]
    assert [g["user_id"] for g in listed] == ["viewer-3"]

    # Moderation, blocked words, listing, coupon drops of the host's template.
    assert _ok(api, "PUT", f"/v1/rooms/{room}/mutes/viewer-2", helper, {"duration_seconds": 60})["muted_until"]
    assert _ok(api, "PUT", f"/v1/rooms/{room}/bans/viewer-2", helper, {})["banned"] is True
    _ok(api, "PUT", f"/v1/rooms/{room}/danmaku-settings", helper, {"blocked_words": ["加微信"]})
    assert _ok(api, "GET", f"/v1/rooms/{room}/danmaku-settings", host)["blocked_words"] == ["加微信"]
    assert _ok(api, "POST", f"/v1/rooms/{room}/products/{product}/listing", helper)["listed"] is True
    assert _ok(api, "DELETE", f"/v1/rooms/{room}/products/listing", helper)["listed"] is False
    drop = _ok(api, "POST", f"/v1/rooms/{room}/coupon-drops", helper, {"template_id": shop["template"], "quantity": 2})
    assert drop["id"]
    # Not the host: cannot mute the host.
    _refused(api, "PUT", f"/v1/rooms/{room}/mutes/host-1", helper, {"duration_seconds": 60}, status=409,
             code="cannot_moderate_host")

    # Never prices, stock or payouts: presets (live price and stock), flash sales, the product itself,
    # coupon templates (amounts), naming assistants, the room itself. Nothing changes.
    before = _ok(api, "GET", f"/v1/rooms/{room}/products", host)["items"]
    _refused(api, "PUT", f"/v1/rooms/{room}/products", helper,
             {"items": [{"product_id": product, "live_price": 1, "live_stock": 999}]})
    _refused(api, "POST", f"/v1/rooms/{room}/flash-sales", helper,
             {"product_id": product, "price": 1, "stock": 5, "duration_seconds": 60})
    _refused(api, "PATCH", f"/v1/products/{product}", helper, {"list_price": 1}, code="operator_required")
    _refused(api, "POST", "/v1/coupon-templates", helper,
             {"name": "自己的券", "kind": "no_threshold", "amount": 9000, "total": 10, "valid_days": 1,
              "room_id": room})
    _refused(api, "PUT", f"/v1/rooms/{room}/assistants/viewer-4", helper, {})
    _refused(api, "PATCH", f"/v1/rooms/{room}", helper, {"topic": "改"})
    assert _ok(api, "GET", f"/v1/rooms/{room}/products", host)["items"] == before
    assert _ok(api, "GET", f"/v1/products/{product}", host)["list_price"] == 9900

    # A grant for one room does not reach the host's other room.
    _refused(api, "PUT", f"/v1/rooms/{other}/mutes/viewer-2", helper, {"duration_seconds": 60}, code="not_room_host")

    # Revoked: refused at once.
    assert _ok(api, "DELETE", f"/v1/rooms/{room}/assistants/viewer-3", host)["removed"] is True
    _refused(api, "DELETE", f"/v1/rooms/{room}/mutes/viewer-2", helper, code="host_required")
    assert _ok(api, "DELETE", f"/v1/rooms/{room}/assistants/viewer-3", host)["removed"] is False


def test_all_rooms_grant_capabilities_and_other_hosts(api, tokens_for, shop):
    host, other_host, helper = tokens_for("host-1"), tokens_for("host-2"), tokens_for("viewer-4")
    room, other, product = shop["room"], shop["other_room"], shop["product"]

    # Only the host themself (or an operator) names assistants for all their rooms.
    _refused(api, "PUT", "/v1/hosts/host-1/assistants/viewer-4", other_host, {}, code="not_room_host")
    _refused(api, "PUT", "/v1/hosts/host-1/assistants/host-1", host, {}, status=400, code="self_assistant")
    _refused(api, "PUT", "/v1/hosts/host-1/assistants/nobody-here", host, {}, status=404, code="user_not_found")
    _refused(api, "PUT", "/v1/hosts/host-1/assistants/viewer-4", host, {"capabilities": ["set_prices"]},
             status=422)
    grant = _ok(api, "PUT", "/v1/hosts/host-1/assistants/viewer-4", host, {"capabilities": ["moderate"]})
    assert grant["room_id"] is None and grant["capabilities"] == ["moderate"]

    # Every room of host-1, but only what was granted.
    _ok(api, "PUT", f"/v1/rooms/{room}/mutes/viewer-2", helper, {"duration_seconds": 60})
    _ok(api, "PUT", f"/v1/rooms/{other}/bans/viewer-2", helper, {})
    _refused(api, "POST", f"/v1/rooms/{room}/products/{product}/listing", helper, code="host_required")
    _refused(api, "POST", f"/v1/rooms/{room}/coupon-drops", helper, {"template_id": shop["template"], "quantity": 1},
             code="host_required")
    assert [g["user_id"] for g in _ok(api, "GET", f"/v1/rooms/{room}/assistants", host)["items"]] == ["viewer-4"]

    # Not in another host's room.
    room_of_2 = _ok(api, "POST", "/v1/rooms", other_host, {"title": "别家", "scheduled_start": START})["id"]
    _refused(api, "PUT", f"/v1/rooms/{room_of_2}/mutes/viewer-2", helper, {"duration_seconds": 60},
             code="not_room_host")
    # A test room is its host's rehearsal: an assistant finds nothing there (as for no room).
    rehearsal = _ok(api, "POST", "/v1/rooms", host, {"title": "彩排", "scheduled_start": START,
                                                     "visibility": "test"})["id"]
    _refused(api, "PUT", f"/v1/rooms/{rehearsal}/mutes/viewer-2", helper, {"duration_seconds": 60}, status=404,
             code="room_not_found")

    assert _ok(api, "DELETE", "/v1/hosts/host-1/assistants/viewer-4", host)["removed"] is True
    _refused(api, "PUT", f"/v1/rooms/{room}/mutes/viewer-2", helper, {"duration_seconds": 60}, code="host_required")

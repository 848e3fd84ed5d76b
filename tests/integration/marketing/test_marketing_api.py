"""Coupons, drops, claims, share rewards and points through the API on moto."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.commerce_fixtures import future, key, parse_time, table_items

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("overrides", [
    {"kind": "threshold", "amount": 2000, "threshold": 2000},        # 满20减20 is not a threshold coupon
    {"kind": "no_threshold", "amount": 500, "threshold": 100},
    {"amount": 0},
    {"total": 0},
    {"per_user_limit": 0},
    {"valid_days": None},                                              # no validity at all
    {"valid_until": "2030-01-01T00:00:00Z"},                           # both validities
    {"valid_days": None, "valid_until": "2030-01-01T00:00:00"},       # no time zone
    {"amount": 12.5},
    {"discount_rate": 0.8},
])
def test_bad_templates_are_422(shop, overrides):
    room_id = shop.room()
    body = {"name": "x", "kind": "threshold", "amount": 2000, "threshold": 10000, "total": 10, "per_user_limit": 1,
            "valid_days": 7, "room_id": room_id}
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}
    response = shop.call("POST", "/v1/coupon-templates", "host-1", body)
    assert response.status == 422, response.body


def test_template_rules_for_hosts(shop):
    room_id = shop.room()
    no_room = shop.call("POST", "/v1/coupon-templates", "host-1", {
        "name": "全场券", "kind": "no_threshold", "amount": 100, "total": 10, "valid_days": 1})
    assert no_room.status == 422
    other_room = shop.call("POST", "/v1/coupon-templates", "host-2", {
        "name": "x", "kind": "no_threshold", "amount": 100, "total": 10, "valid_days": 1, "room_id": room_id})
    assert other_room.status == 403
    points = shop.call("POST", "/v1/coupon-templates", "host-1", {
        "name": "x", "kind": "no_threshold", "amount": 100, "total": 10, "valid_days": 1, "room_id": room_id,
        "points_cost": 10})
    assert points.status == 403
    assert shop.call("POST", "/v1/coupon-templates", "viewer-1", {}).status in (403, 422)


def test_drop_claim_limits_and_the_coupon_centre(shop):
    room_id = shop.room()
    tpl = shop.template(room_id, total=3, per_user_limit=2)
    drop = shop.drop(room_id, tpl["id"])
    assert drop["state"] == "open" and drop["quantity"] == 3 and drop["left"] == 3
    first = shop.claim("viewer-1", drop["id"])
    assert first.status == 201 and first.json()["state"] == "available" and first.json()["source"] == "claim"
    k = key()
    second = shop.ok(shop.claim("viewer-1", drop["id"], idem=k), 201)
    replay = shop.claim("viewer-1", drop["id"], idem=k)
    assert replay.status == 200 and replay.json()["id"] == second["id"]   # a retry returns the first claim
    third = shop.claim("viewer-1", drop["id"])
    assert third.status == 409 and third.json()["code"] == "claim_limit_reached"
    assert shop.ok(shop.claim("viewer-2", drop["id"]), 201)
    exhausted = shop.claim("viewer-2", drop["id"])
    assert exhausted.status == 409 and exhausted.json()["code"] == "drop_exhausted"
    assert shop.ok(shop.call("GET", f"/v1/coupon-drops/{drop['id']}"))["state"] == "exhausted"
    centre = shop.ok(shop.call("GET", "/v1/me/coupons", "viewer-1"))
    assert len(centre["items"]) == 2 and all(c["template_id"] == tpl["id"] for c in centre["items"])
    # The template is spent: no further drop.
    again = shop.call("POST", f"/v1/rooms/{room_id}/coupon-drops", "host-1", {"template_id": tpl["id"]})
    assert again.status == 409 and again.json()["code"] == "template_exhausted"


def test_scheduled_drop_opens_at_its_time_and_is_announced(shop, seeded, clock, timer_requests, bus):
    from livecommerce.marketing import service

    clock.patch(service)                                      # stepped past the drop time, not slept through
    room_id = shop.room()
    tpl = shop.template(room_id, total=10)
    drop = shop.drop(room_id, tpl["id"], quantity=4, drops_at=future(60))
    assert drop["state"] == "scheduled" and drop["quantity"] == 4
    drops_at = parse_time(drop["drops_at"])
    # Under a minute away: the drop's timer was asked for when it was scheduled.
    assert timer_requests == [{"kind": "coupon_drop", "id": drop["id"], "at_ms": int(drops_at.timestamp() * 1000)}]
    clock.set(drops_at - timedelta(milliseconds=300))         # the same second, not yet its moment
    early = shop.claim("viewer-1", drop["id"])
    assert early.status == 409 and early.json()["code"] == "drop_not_started"
    assert service.publish_due_drops() == 0
    assert not any(t == "CouponDropped" for t, _, _ in bus)
    clock.set(drops_at + timedelta(seconds=1))
    assert shop.ok(shop.claim("viewer-1", drop["id"]), 201)
    assert service.publish_due_drops() == 1
    assert service.publish_due_drops() == 0
    assert [d["drop_id"] for t, d, _ in bus if t == "CouponDropped"] == [drop["id"]]
    assert shop.call("POST", f"/v1/rooms/{room_id}/coupon-drops", "host-2", {"template_id": tpl["id"]}).status == 403
    rest = shop.drop(room_id, tpl["id"])
    assert rest["quantity"] == 6


def test_expired_and_foreign_coupons(shop, clock):
    from livecommerce.marketing import service as marketing
    from livecommerce.orders import service as orders

    clock.patch(marketing, orders)                            # stepped past the expiry, not slept through
    room_id, (pid,) = shop.listed_room(live_price=20000)
    other_room, _ = shop.listed_room()
    short = shop.template(room_id, name="短券", kind="no_threshold", amount=100, threshold=0, valid_days=None,
                          valid_until=future(60))
    foreign = shop.template(other_room, name="别的直播间", kind="no_threshold", amount=100, threshold=0)
    c_short = shop.ok(shop.claim("viewer-1", shop.drop(room_id, short["id"])["id"]))
    c_foreign = shop.ok(shop.claim("viewer-1", shop.drop(other_room, foreign["id"])["id"]))
    wrong_room = shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}], coupon_id=c_foreign["id"])
    assert wrong_room.status == 409 and wrong_room.json()["code"] == "coupon_wrong_room"
    clock.set(parse_time(c_short["valid_until"]) + timedelta(seconds=1))
    expired = shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}], coupon_id=c_short["id"])
    assert expired.status == 409 and expired.json()["code"] == "coupon_expired"
    states = {c["id"]: c["state"] for c in shop.ok(shop.call("GET", "/v1/me/coupons", "viewer-1"))["items"]}
    assert states[c_short["id"]] == "expired"
    auto = shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}]), 201)
    assert auto["coupon_id"] is None   # neither the expired nor the other room's coupon is picked


def test_share_rewards(shop):
    room_id = shop.room()
    tpl = shop.template(room_id, name="分享有礼", kind="no_threshold", amount=300, threshold=0, total=10,
                        per_user_limit=5)
    no_reward_yet = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/shares", "viewer-1"), 201)
    code = no_reward_yet["code"]
    assert shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/shares", "viewer-1"), 200)["code"] == code
    early = shop.ok(shop.call("POST", f"/v1/shares/{code}/arrivals", "host-2"))
    assert early["first_arrival"] is True and early["rewarded"] is False and early["reason"] == "no_share_reward"

    shop.drop(room_id, tpl["id"], purpose="share_reward", quantity=2)
    self_ref = shop.call("POST", f"/v1/shares/{code}/arrivals", "viewer-1")
    assert self_ref.status == 409 and self_ref.json()["code"] == "self_referral"
    arrived = shop.ok(shop.call("POST", f"/v1/shares/{code}/arrivals", "viewer-2"))
    assert arrived == {"code": code, "room_id": room_id, "first_arrival": True, "rewarded": True, "reason": None}
    twice = shop.ok(shop.call("POST", f"/v1/shares/{code}/arrivals", "viewer-2"))
    assert twice["first_arrival"] is False and twice["rewarded"] is False
    # The same invitee through another viewer's code earns nothing more.
    other_code = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/shares", "operator-1"))["code"]
    assert shop.ok(shop.call("POST", f"/v1/shares/{other_code}/arrivals", "viewer-2"))["rewarded"] is False
    coupons = shop.ok(shop.call("GET", "/v1/me/coupons", "viewer-1"))["items"]
    assert [c["source"] for c in coupons] == ["share_reward"] and coupons[0]["amount"] == 300
    assert shop.ok(shop.call("POST", f"/v1/shares/{code}/arrivals", "host-1"))["rewarded"] is True
    spent = shop.ok(shop.call("POST", f"/v1/shares/{code}/arrivals", "operator-1"))
    assert spent["rewarded"] is False and spent["reason"] == "share_reward_exhausted"
    assert len(shop.ok(shop.call("GET", "/v1/me/coupons", "viewer-1"))["items"]) == 2
    unknown = shop.call("POST", "/v1/shares/ABCDEFGH23/arrivals", "viewer-2")
    assert unknown.status == 404 and unknown.json()["code"] == "share_not_found"


def test_points_are_earned_by_paid_orders_and_redeemed_for_coupons(shop, seeded):
    from livecommerce.marketing import service

    assert shop.ok(shop.call("GET", "/v1/me/points", "viewer-1")) == {"balance": 0, "ledger": [], "cursor": None}
    assert service.award_points("viewer-1", 120, reason="quiz", ref="quiz:1") is True
    assert service.award_points("viewer-1", 120, reason="quiz", ref="quiz:1") is False   # once per ref
    tpl = shop.ok(shop.call("POST", "/v1/coupon-templates", "operator-1", {
        "name": "积分兑换券", "kind": "no_threshold", "amount": 500, "total": 5, "per_user_limit": 3,
        "valid_days": 30, "points_cost": 100}))
    k = key()
    redeemed = shop.call("POST", "/v1/points/redemptions", "viewer-1", {"template_id": tpl["id"]}, idem=k)
    assert redeemed.status == 201, redeemed.body
    assert redeemed.json()["points_spent"] == 100 and redeemed.json()["coupon"]["source"] == "points"
    replay = shop.call("POST", "/v1/points/redemptions", "viewer-1", {"template_id": tpl["id"]}, idem=k)
    assert replay.status == 200 and replay.json()["coupon"]["id"] == redeemed.json()["coupon"]["id"]
    poor = shop.call("POST", "/v1/points/redemptions", "viewer-1", {"template_id": tpl["id"]}, idem=key())
    assert poor.status == 409 and poor.json()["code"] == "insufficient_points" and poor.json()["balance"] == 20
    points = shop.ok(shop.call("GET", "/v1/me/points", "viewer-1"))
    assert points["balance"] == 20 and [e["delta"] for e in points["ledger"]] == [-100, 120]
    room_id = shop.room()
    not_redeemable = shop.template(room_id)
    assert shop.call("POST", "/v1/points/redemptions", "viewer-1", {"template_id": not_redeemable["id"]},
                     idem=key()).json()["code"] == "not_redeemable"
    balance_items = [i for i in table_items(seeded, "marketing", "USER#viewer-1") if i["sk"] == "POINTS"]
    assert balance_items[0]["balance"] == 20

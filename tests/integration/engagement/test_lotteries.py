"""Lotteries through the API on moto, with the drand stand-in serving real BLS beacons."""
from __future__ import annotations

import importlib.util
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.commerce_fixtures import parse_time

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("verify_lottery", ROOT / "scripts" / "verify_lottery.py")
verify_lottery = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verify_lottery)


@pytest.fixture
def drand(monkeypatch):
    from local.standins.drand import DrandChain, serve

    offset = {"s": 0.0}
    chain = DrandChain(period=3, clock=lambda: time.time() + offset["s"])
    server, url = serve(chain)
    for name, value in chain.settings_env(url).items():
        monkeypatch.setenv(name, value)
    chain.offset = offset
    yield chain
    server.shutdown()


def _problem(response, status, code):
    assert response.status == status, (response.status, response.body)
    assert response.json()["code"] == code, response.body
    assert response.headers.get("Content-Type", response.headers.get("content-type", "")).startswith(
        "application/problem+json")


def test_follow_lottery_end_to_end_with_a_verifiable_draw_and_points(shop, clock, drand, monkeypatch, aws_env):
    from livecommerce.engagement import service
    from local.event_delivery import drain_queue
    from local.resources import LocalNames, delivery_queue_name
    from tests.integration.interaction.conftest import Published

    published = Published(aws_env.region_name)

    clock.patch(service)
    room_id = shop.room()
    viewers = [f"viewer-{i}" for i in range(1, 7)]
    for v in viewers[:5]:
        shop.ok(shop.call("PUT", "/v1/hosts/host-1/follow", v))
    shop.ok(shop.call("PUT", f"/v1/rooms/{room_id}/bans/viewer-5", "host-1", {}))
    body = {"kind": "follow", "prize": {"kind": "points", "name": "100 积分", "points": 100}, "winners": 2,
            "duration_seconds": 60}
    _problem(shop.call("POST", f"/v1/rooms/{room_id}/lotteries", "viewer-1", body), 403, "host_required")
    lottery = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/lotteries", "host-1", body), 201)
    lid = lottery["id"]
    assert lottery["state"] == "open" and len(lottery["commitment"]) == 64 and lottery["entrants"] == 0

    for v in viewers[:4]:
        shop.ok(shop.call("POST", f"/v1/lotteries/{lid}/entries", v), 201)
    _problem(shop.call("POST", f"/v1/lotteries/{lid}/entries", "viewer-1"), 409, "already_entered")
    _problem(shop.call("POST", f"/v1/lotteries/{lid}/entries", "viewer-5"), 403, "banned")
    _problem(shop.call("POST", f"/v1/lotteries/{lid}/entries", "viewer-6"), 403, "not_a_follower")
    _problem(shop.call("POST", f"/v1/lotteries/{lid}/entries", "host-1"), 403, "host_cannot_enter")
    assert shop.ok(shop.call("GET", f"/v1/lotteries/{lid}"))["entrants"] == 4

    closes = parse_time(lottery["closes_at"])
    clock.set(closes - timedelta(seconds=service.COUNTDOWN_SECONDS - 1))
    assert service.run_step(lid, clock.now())[0] == "countdown"
    clock.set(closes + timedelta(seconds=1))
    _problem(shop.call("POST", f"/v1/lotteries/{lid}/entries", "viewer-5"), 409, "lottery_closed")
    assert service.run_step(lid, clock.now())[0] == "close"
    closed = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}"))
    assert closed["state"] == "closed" and closed["entrants"] == 4 and closed["entrants_hash"]
    early = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}/proof"))
    assert early["secret"] is None and len(early["entrants"]) == 4     # the list is public, the secret not yet

    draws_at = parse_time(closed["draws_at"])
    assert draws_at > closes
    clock.set(draws_at + timedelta(seconds=1))
    drand.offset["s"] = (draws_at - parse_time(lottery["opens_at"])).total_seconds() + 10
    assert service.run_step(lid, clock.now())[0] == "draw"

    drawn = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}"))
    assert drawn["state"] == "drawn" and len(drawn["winners"]) == 2
    # Opening, countdown, close and draw reached the room's events topic (outbox -> bus -> broadcasts);
    # winners appear as pseudonyms and masked nicknames only.
    sqs = aws_env.client("sqs")     # only the broadcasts subscription (the other consumers have their tests)
    drain_queue(sqs, sqs.get_queue_url(QueueName=delivery_queue_name(LocalNames(), "RoomBroadcasts"))["QueueUrl"],
                "broadcasts")
    room_messages = [m for m in published.on(f"{room_id}/events") if m["type"].startswith("lottery_")]
    assert [m["type"] for m in room_messages] == ["lottery_opened", "lottery_countdown", "lottery_closed",
                                                  "lottery_drawn"]
    assert room_messages[0]["data"]["commitment"] == lottery["commitment"]
    assert room_messages[1]["data"]["seconds_left"] == service.COUNTDOWN_SECONDS - 1
    assert room_messages[2]["data"]["entrants_hash"] == closed["entrants_hash"]
    assert [w["entrant"] for w in room_messages[3]["data"]["winners"]] == [w["entrant"] for w in drawn["winners"]]
    assert "viewer-" not in str(room_messages)
    assert all(w["prize_state"] == "granted" for w in drawn["winners"])
    proof = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}/proof"))
    problems, order = verify_lottery.verify(proof)
    assert problems == [] and order == [w["entrant"] for w in drawn["winners"]]
    proof["secret"] = "ab" * 32
    assert any("commitment" in p for p in verify_lottery.verify(proof)[0])
    # The frozen list is one S3 object (its link is in the proof); long lists are linked, not inlined.
    import requests
    linked = requests.get(proof["entrants_url"], timeout=5)     # answered by moto, never the internet
    assert linked.status_code == 200 and [linked.content[i:i + 12].hex() for i in range(0, 48, 12)] == \
        proof["entrants"] and len(linked.content) == 48
    monkeypatch.setattr(service, "INLINE_ENTRANTS", 3)
    long = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}/proof"))
    assert long["entrants"] is None and long["entrants_count"] == 4
    monkeypatch.setattr(verify_lottery.urllib.request, "urlopen",
                        lambda url, timeout: __import__("io").BytesIO(requests.get(url, timeout=timeout).content))
    assert verify_lottery.verify(long)[0] == []
    long["entrants_count"] = 5
    assert any("number of entrants" in p for p in verify_lottery.verify(long)[0])

    # Points granted once (a second settle does not add them again); the host sees every prize.
    from livecommerce.engagement import draw as rules
    winners = [v for v in viewers[:4] if rules.pseudonym(lottery["salt"], v) in set(order)]
    assert len(winners) == 2
    # Each winner, and nobody else, got a private message on their own topic of the room.
    for v in viewers:
        private = [m for m in published.on(f"{room_id}/users/{v}") if m["type"] == "lottery_won"]
        assert len(private) == (1 if v in winners else 0), (v, private)
        if private:
            assert private[0]["data"]["lottery_id"] == lid and private[0]["data"]["claim_path"] is None
    service.run_step(lid, clock.now())
    # Each entrant earned the lottery_entry rule's points for taking part (one lottery: under its daily cap),
    # and each winner the 100 points of the prize on top, once.
    from livecommerce.engagement.participation import LOTTERY_ENTRY_POINTS, RULES
    assert LOTTERY_ENTRY_POINTS <= RULES["lottery_entry"].daily_cap
    for v in viewers[:4]:
        expected = LOTTERY_ENTRY_POINTS + (100 if v in winners else 0)
        assert shop.ok(shop.call("GET", "/v1/me/points", v))["balance"] == expected, v
    for v in viewers[4:]:     # refused entries (banned, not following) earned nothing
        assert shop.ok(shop.call("GET", "/v1/me/points", v))["balance"] == 0, v
    for w in winners:
        mine = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", w))
        assert mine["me"]["prize_state"] == "granted" and mine.get("prizes") is None
    host_view = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", "host-1"))
    assert host_view["prize_summary"] == {"granted": 2} and len(host_view["prizes"]) == 2
    _problem(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", winners[0], ADDRESS), 409,
             "no_address_needed")


ADDRESS = {"name": "张三", "phone": "13800138000", "region": "浙江省杭州市西湖区", "address": "文三路 100 号"}


def test_gift_prize_address_within_24h_then_redraw(shop, clock, drand):
    from livecommerce.engagement import service

    clock.patch(service)
    room_id = shop.room()
    viewers = [f"viewer-{i}" for i in range(1, 6)]
    for v in viewers:
        shop.ok(shop.call("PUT", "/v1/hosts/host-1/follow", v))
    lottery = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/lotteries", "host-1", {
        "kind": "follow", "prize": {"kind": "gift", "name": "签名照"}, "winners": 2, "duration_seconds": 30,
        "on_unclaimed": "redraw"}), 201)
    lid = lottery["id"]
    for v in viewers:
        shop.ok(shop.call("POST", f"/v1/lotteries/{lid}/entries", v), 201)
    clock.set(parse_time(lottery["closes_at"]) + timedelta(seconds=1))
    service.run_step(lid, clock.now())
    draws_at = parse_time(shop.ok(shop.call("GET", f"/v1/lotteries/{lid}"))["draws_at"])
    drand.offset["s"] = 3600
    clock.set(draws_at + timedelta(seconds=1))
    assert service.run_step(lid, clock.now())[0] == "draw"
    view = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", "host-1"))
    assert {p["prize_state"] for p in view["prizes"]} == {"pending"}
    first, second = (p["user_id"] for p in sorted(view["prizes"], key=lambda p: p["rank"]))
    loser = next(v for v in viewers if v not in (first, second))
    _problem(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", loser, ADDRESS), 403, "not_a_winner")
    claim = shop.ok(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", first, ADDRESS))
    assert claim["prize_state"] == "claimed" and "13800138000" not in str(claim)
    _problem(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", first, ADDRESS), 409, "already_claimed")
    assert service.winner_address(lid, first)["phone"] == "13800138000"    # decrypts with its context

    clock.set(draws_at + timedelta(hours=24, seconds=2))
    _problem(shop.call("PUT", f"/v1/lotteries/{lid}/winners/me/address", second, ADDRESS), 409, "claim_expired")
    assert service.run_step(lid, clock.now())[0] == "forfeit"
    after = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}", "host-1"))
    states = sorted((p["rank"], p["prize_state"]) for p in after["prizes"])
    assert states == [(1, "claimed"), (2, "forfeited"), (2, "pending")]
    proof = shop.ok(shop.call("GET", f"/v1/lotteries/{lid}/proof"))
    problems, order = verify_lottery.verify(proof)     # the redraw is position 3 of the same shuffle
    assert problems == [] and len(order) == 3 and proof["positions"] == 3


def test_another_rooms_lottery_and_bad_bodies(shop):
    room_a, room_b = shop.room("host-1"), shop.room("host-2")
    body = {"kind": "keyword", "keyword": "扣1", "prize": {"kind": "gift", "name": "礼物"}, "winners": 1,
            "duration_seconds": 60}
    _problem(shop.call("POST", f"/v1/rooms/{room_a}/lotteries", "host-2", body), 403, "not_room_host")
    lottery = shop.ok(shop.call("POST", f"/v1/rooms/{room_b}/lotteries", "host-2", body), 201)
    _problem(shop.call("POST", f"/v1/lotteries/{lottery['id']}/entries", "viewer-1"), 409, "enter_by_danmaku")
    for bad in ({**body, "keyword": None}, {**body, "kind": "follow"}, {**body, "winners": 0},
                {**body, "prize": {"kind": "points", "name": "x"}}, {**body, "duration_seconds": 5}):
        assert shop.call("POST", f"/v1/rooms/{room_b}/lotteries", "host-2", bad).status == 422
    _problem(shop.call("POST", f"/v1/rooms/{room_b}/lotteries", "host-2", {
        **body, "prize": {"kind": "coupon", "name": "券", "template_id": "01J00000000000000000000000"}}),
        404, "template_not_found")
    _problem(shop.call("GET", "/v1/lotteries/01J00000000000000000000000"), 404, "lottery_not_found")


def test_buyers_lottery_a_paid_order_lets_the_buyer_in_and_not_the_others(shop, aws_env):
    from livecommerce import orders
    from local.event_delivery import drain_queue
    from local.resources import LocalNames, delivery_queue_name

    room_id, (product_id,) = shop.listed_room()
    lottery = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/lotteries", "host-1", {
        "kind": "buyers", "prize": {"kind": "points", "name": "50 积分", "points": 50}, "winners": 1,
        "duration_seconds": 600}), 201)
    paid = shop.ok(shop.order("viewer-1", room_id, [{"product_id": product_id, "quantity": 1}]), 201)
    unpaid = shop.ok(shop.order("viewer-2", room_id, [{"product_id": product_id, "quantity": 1}]), 201)
    assert unpaid["state"] == "pending_payment"
    # The provider's verified "paid" report: orders emits OrderPaid, the bus routes it to engagement_events.
    assert orders.apply_payment(channel="wechat", order_id=paid["id"], transaction_id="4200000000000001",
                                amount=paid["total"], paid_at="2026-12-01T12:00:00Z") == "paid"
    sqs = aws_env.client("sqs")
    url = sqs.get_queue_url(QueueName=delivery_queue_name(LocalNames(), "LotteryBuyers"))["QueueUrl"]
    assert drain_queue(sqs, url, "engagement_events") == 1
    _problem(shop.call("POST", f"/v1/lotteries/{lottery['id']}/entries", "viewer-2"), 403, "not_a_buyer")
    _problem(shop.call("POST", f"/v1/lotteries/{lottery['id']}/entries", "viewer-3"), 403, "not_a_buyer")
    shop.ok(shop.call("POST", f"/v1/lotteries/{lottery['id']}/entries", "viewer-1"), 201)
    assert shop.ok(shop.call("GET", f"/v1/lotteries/{lottery['id']}"))["entrants"] == 1

"""Live broadcasts: domain events on the bus -> the room's events topic, stock
coalesced, duplicates dropped, nothing internal leaked; product cards -> IVS
timed metadata at most 5 calls a second, merged not dropped (botocore Stubber)."""
from __future__ import annotations

import json
import threading
import uuid

import pytest

pytestmark = pytest.mark.integration


def event(detail_type: str, detail: dict) -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": "livecommerce",
            "account": "000000000000", "time": "2026-12-01T12:00:00Z", "region": "ap-northeast-1",
            "resources": [], "detail": {"event_id": str(uuid.uuid4()), "occurred_at": "2026-12-01T12:00:00Z",
                                        **detail}}


def product_listed(room: str, product_id: str, name: str = "羊绒围巾", **extra) -> dict:
    """A ProductListed detail as catalog sends it (its model checks the fields)."""
    from livecommerce.catalog.events import ProductListed

    return ProductListed(room_id=room, product_id=product_id, name=name, live_price=19900, stock_left=30,
                         **extra).detail()


def flash_sale_started(room: str, sale_id: str, product_id: str = "P1", **extra) -> dict:
    """A FlashSaleStarted detail as orders sends it."""
    from livecommerce.orders.events import FlashSaleStarted

    fields = {"flash_sale_id": sale_id, "room_id": room, "product_id": product_id, "name": "秒杀围巾", "price": 9900,
              "list_price": 19900, "stock": 50, "per_user_limit": 1, "starts_at": "2026-12-01T12:00:00Z",
              "ends_at": "2026-12-01T12:10:00Z", **extra}
    return FlashSaleStarted(**fields).detail()


def broadcast(evt: dict) -> dict:
    from local.lambda_runtime import invoke

    return invoke("broadcasts", evt)


def test_room_lifecycle_reaches_the_events_topic(api, tokens_for, make_room, published, aws_env):
    from local.event_delivery import drain
    from local.resources import LocalNames

    room = make_room(start=False)
    host = tokens_for("host-1")
    assert api.call("POST", f"/v1/rooms/{room}/start", token=host).status == 200
    assert api.call("POST", f"/v1/rooms/{room}/end", token=host).status == 200
    drain(aws_env, LocalNames())
    messages = published.on(f"{room}/events")
    assert [m["type"] for m in messages] == ["room_started", "room_ended"]
    text = json.dumps(messages)
    assert "channel_arn" not in text and "arn:aws" not in text and "visibility" not in text


def test_commerce_events_generic_and_private_fields_dropped(room, published):
    drop = {"drop_id": "D1", "template_id": "T1", "purpose": "live", "quantity": 100,
            "drops_at": "2026-12-01T12:00:00Z", "name": "满99减10", "kind": "amount_off", "amount": 1000,
            "threshold": 9900}
    detail = {"room_id": room, **drop, "product_id": "P1", "title": "羊绒围巾", "live_price": 19900,
              "channel_arn": "arn:aws:ivs:x:1:channel/abc", "buyer_id": "viewer-1", "created_by": "host-1",
              "extra": {"secret_note": "x", "badge": "爆款"}}
    first = event("CouponDropped", {**detail, "coupon_id": "C1"})
    assert broadcast(first)["outcome"] == "published"
    assert broadcast(first)["outcome"] == "duplicate"            # EventBridge delivered it twice
    assert broadcast(event("CouponDropped", {"product_id": "P1"}))["outcome"] == "ignored"   # no room
    [message] = published.on(f"{room}/events")
    assert message["type"] == "coupon_dropped" and message["room_id"] == room
    assert message["data"] == {**drop, "product_id": "P1", "title": "羊绒围巾", "live_price": 19900,
                               "coupon_id": "C1", "extra": {"badge": "爆款"}}
    # a detail its producer's model does not accept is let go, not retried
    assert broadcast(event("CouponDropped", {"room_id": room, "coupon_id": "C2"}))["outcome"] == "invalid"
    assert len(published.on(f"{room}/events")) == 1


class HeldSlots:
    """The coalescing gates' clock and sleep (the clock port, livecommerce.shared.gates reads
    it), so that concurrent publishers meet the same closed slot however slow the machine is.

    The clock stands still but for sleeps: every publisher started together finds the slot
    taken by the publish before them. A sleep (waiting for the next slot) is held until
    every other publisher started by `run` has returned, then moves the clock on by what
    was asked. `sleeps` is what was asked for; `takes` the clock at each slot taken."""

    def __init__(self, monkeypatch, take: str) -> None:
        import dataclasses

        from livecommerce.interaction import gates, repository
        from livecommerce.shared import ports

        self._now = gates.now_ms()
        self._changed = threading.Condition()
        self._running = 0
        self._sleeping = 0
        self.sleeps: list[int] = []
        self.takes: list[int] = []
        self.held_too_long = False
        monkeypatch.setattr(ports, "_current", dataclasses.replace(ports.get(), clock=self))
        real_take = getattr(repository, take)

        def recorded_take(*args, **kwargs):
            result = real_take(*args, **kwargs)
            if result[0]:
                with self._changed:
                    self.takes.append(kwargs["now_ms"])
            return result

        monkeypatch.setattr(repository, take, recorded_take)

    def now_ms(self) -> int:
        with self._changed:
            return self._now

    def now(self):
        from datetime import datetime, timedelta, timezone

        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=self.now_ms())

    def sleep(self, seconds: float) -> None:
        self.sleep_ms(round(seconds * 1000))

    def sleep_ms(self, ms: int) -> None:
        with self._changed:
            self.sleeps.append(ms)
            self._sleeping += 1
            if not self._changed.wait_for(lambda: self._running == self._sleeping, timeout=30):
                self.held_too_long = True
            self._sleeping -= 1
            self._now += max(0, ms)

    def run(self, calls: list) -> list:
        """Runs `calls` in threads started together; their results, in the order they returned."""
        results: list = []

        def one(call) -> None:
            try:
                result = call()
            finally:
                with self._changed:
                    self._running -= 1
                    self._changed.notify_all()
            results.append(result)

        threads = [threading.Thread(target=one, args=(call,)) for call in calls]
        with self._changed:
            self._running = len(threads)
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads) and not self.held_too_long
        return results


def test_stock_changes_are_coalesced_and_the_newest_wins(room, published, monkeypatch):
    def stock(version: int, left: int) -> dict:
        # as orders sends it; newer changes occur later
        return event("StockChanged", {"room_id": room, "product_id": "P9", "delta": -1, "stock_left": left,
                                      "cause": "order", "occurred_at": f"2026-12-01T12:00:{version:02d}Z"})

    slots = HeldSlots(monkeypatch, "take_pending")
    assert broadcast(stock(1, 100))["outcome"] == "published"
    outcomes = slots.run([lambda v=v: broadcast(stock(v, 100 - v))["outcome"] for v in range(2, 9)])
    # One of the seven waited for the next slot and carried the newest stock; the rest returned at once.
    assert len(slots.sleeps) == 1
    assert outcomes.count("published") == 1 and outcomes.count("coalesced") + outcomes.count("stale") == 6
    stocks = [m["data"]["stock_left"] for m in published.on(f"{room}/events") if m["type"] == "stock_changed"]
    assert stocks == [100, 92]
    assert len(slots.takes) == 2 and slots.takes[1] - slots.takes[0] >= 1000     # at most one a second
    assert broadcast(stock(3, 97))["outcome"] == "stale"      # late and older than what viewers saw


class Ivs:
    """A stubbed IVS client in the place of the container's client."""

    def __init__(self, monkeypatch, channel_arn: str) -> None:
        import boto3
        from botocore.stub import ANY, Stubber

        from livecommerce.shared import aws

        self.client = boto3.session.Session(region_name="ap-northeast-1").client("ivs")
        self.stubber = Stubber(self.client)
        self.any, self.arn = ANY, channel_arn
        self.sent: list[dict] = []
        self.times: list[float] = []
        self.client.meta.events.register("provide-client-params.ivs.PutMetadata", self._capture)
        monkeypatch.setitem(aws._clients, "ivs", self.client)

    def _capture(self, params, **_):
        from livecommerce.interaction import gates

        self.sent.append(json.loads(params["metadata"]))
        self.times.append(gates.now_ms())

    def expect(self, n: int = 1) -> None:
        for _ in range(n):
            self.stubber.add_response("put_metadata", {}, {"channelArn": self.arn, "metadata": self.any})

    def throttle(self) -> None:
        self.stubber.add_client_error("put_metadata", "ThrottlingException", "Rate exceeded", 429,
                                      expected_params={"channelArn": self.arn, "metadata": self.any})


def _channel(room_id: str) -> str:
    from livecommerce import rooms

    return rooms.get_room(room_id).channel_arn


def test_cards_ride_in_the_video_merged_within_five_calls_a_second(room, monkeypatch, published):
    from livecommerce.interaction import flash_units

    # A sale's units-left read (its own gate and sleep, test_flash_units.py) is not this test's: recorded only.
    units = []
    monkeypatch.setattr(flash_units, "changed", lambda room_id, sale_id: units.append(sale_id) or "coalesced")
    ivs = Ivs(monkeypatch, _channel(room))
    ivs.expect(4)                                       # room for one call per card: the merging is checked below
    slots = HeldSlots(monkeypatch, "take_queue")
    with ivs.stubber:
        assert broadcast(event("ProductListed", product_listed(room, "P1", "围巾")))["outcome"] == "published"
        details = {"ProductListed": lambda n: product_listed(room, f"P{n}"),
                   "FlashSaleStarted": lambda n: flash_sale_started(room, f"F{n}", f"P{n}")}
        slots.run([lambda n=n, kind=kind: broadcast(event(kind, details[kind](n)))
                   for n, kind in enumerate(["ProductListed", "FlashSaleStarted", "ProductListed"], start=2)])
    cards = [c for payload in ivs.sent for c in payload["cards"]]
    assert sorted(c["product_id"] for c in cards) == ["P1", "P2", "P3", "P4"]      # none dropped
    # merged: the three cards queued while the slot was closed went in one call, by the one caller that
    # waited for the next slot (the other two returned at once)
    assert [len(p["cards"]) for p in ivs.sent] == [1, 3] and len(slots.sleeps) == 1
    assert all(len(json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode()) <= 1024 for p in ivs.sent)
    assert slots.takes == ivs.times                                                 # one call per slot taken
    assert all(b - a >= 200 for a, b in zip(ivs.times, ivs.times[1:]))             # <= 5 calls a second
    assert len(published.on(f"{room}/events")) == 4                                # and all on the topic
    assert units == ["F3"]                                                          # the started sale's units read


def test_throttled_cards_are_sent_in_the_next_slot(room, monkeypatch):
    ivs = Ivs(monkeypatch, _channel(room))
    ivs.throttle()
    ivs.expect(1)
    with ivs.stubber:
        broadcast(event("FlashSaleStarted", flash_sale_started(room, "F1", "P1")))
        ivs.stubber.assert_no_pending_responses()
    assert ivs.sent[0] == ivs.sent[1] and ivs.sent[1]["cards"][0]["flash_sale_id"] == "F1"


def test_cards_pack_into_one_kilobyte(room):
    from livecommerce.catalog.events import ProductListed
    from livecommerce.interaction import cards

    now = 1_000_000
    queued = [cards.card_for(ProductListed.parse(product_listed(room, f"P{n}", "很长的商品标题" * 10)), at_ms=now)
              for n in range(20)]
    queued.append({"at_ms": now - 60_000, "card": {"type": "product_listed", "product_id": "OLD"}})
    payload, sent, rest, stale = cards.pack(queued[-1:] + queued[:-1], now_ms=now)
    assert stale == 1 and len(payload.encode()) <= 1024 and sent and len(sent) + len(rest) == 20
    huge = [{"at_ms": now, "card": {"type": "product_listed", "product_id": "P", "title": "x" * 5000}}]
    payload, sent, rest, _ = cards.pack(huge, now_ms=now)
    assert json.loads(payload)["cards"] == [{"type": "product_listed", "product_id": "P"}] and rest == []

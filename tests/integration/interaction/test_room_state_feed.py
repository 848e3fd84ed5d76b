"""Late joiners see what is running (issue 14, outcome 7): the producers of the card on screen, the
flash sale (countdown end and units left), the open lottery and the like total, end to end with
real MQTT clients (paho over WebSocket) on the local broker; the room events go through the real
broadcasts handler and the like total through the likes batcher, on moto's DynamoDB, and publish
through the real iot-data client (SigV4) to the broker. A late subscriber gets each within a
second; each is cleared when it ends; an old event delivered late changes nothing."""
from __future__ import annotations

import json
import queue
import time
import uuid

import pytest

from tests.integration.interaction.test_room_state_retained import ROOM, Viewer, viewer_authorizer

pytestmark = pytest.mark.integration
pytest.importorskip("paho.mqtt.client")


@pytest.fixture
def broker_on_moto(aws_env, monkeypatch):
    from livecommerce.interaction.settings import get_interaction_settings
    from livecommerce.shared import aws
    from local.mqtt import LocalBroker

    stage = get_interaction_settings().stage
    found = LocalBroker(authorizer=viewer_authorizer(stage))
    found.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_IOT_DATA_PLANE", found.urls["publish"])
    aws.reset_clients()
    yield found, stage
    found.stop()
    aws.reset_clients()


def _event(model, at: str, **fields) -> dict:
    detail = {**model(room_id=ROOM, **fields).detail(), "event_id": str(uuid.uuid4()), "occurred_at": at}
    return {"id": detail["event_id"], "detail-type": model.detail_type, "source": "livecommerce", "detail": detail}


SALE = {"flash_sale_id": "S1", "product_id": "P9", "name": "秒杀围巾", "price": 9900, "list_price": 19900, "stock": 50,
        "per_user_limit": 1, "starts_at": "2026-12-01T12:00:00Z", "ends_at": "2026-12-01T12:10:00Z"}
LOTTERY = {"lottery_id": "L1", "kind": "keyword", "keyword": "扣1", "prize_kind": "points", "prize_name": "100 积分",
           "winners": 3, "opens_at": "2026-12-01T12:00:00Z", "closes_at": "2026-12-01T12:05:00Z",
           "commitment": "ab" * 32}


def _retained(viewer: Viewer, asked: float, kinds: set[str]) -> dict[str, dict]:
    got: dict[str, dict] = {}
    while set(got) != kinds:
        try:
            topic, payload, retained, at = viewer.next(timeout=2.0)
        except queue.Empty:
            raise AssertionError(f"only {sorted(got)} of {sorted(kinds)}") from None
        assert retained and at - asked < 1.0, (topic, at - asked)     # within a second of subscribing
        got[topic.rsplit("/", 1)[1]] = json.loads(payload)
    return got


def test_late_joiner_sees_card_flash_sale_lottery_and_likes_and_each_is_cleared_when_it_ends(broker_on_moto,
                                                                                                monkeypatch):
    from livecommerce import orders
    from livecommerce.catalog.events import ProductListed, ProductUnlisted, StockChanged
    from livecommerce.engagement.events import LotteryClosed, LotteryDrawn, LotteryOpened
    from livecommerce.interaction import batcher, broadcasts, flash_units, repository, room_state, state_feed
    from livecommerce.interaction.settings import reset_interaction_settings
    from livecommerce.orders.events import FlashSaleEnded, FlashSaleStarted

    broker, stage = broker_on_moto
    # The sale's units left are read from its shards (orders; real ones in test_flash_units.py): here a
    # stand-in total that the orders below move, read at most once per 200 ms window.
    shards = {"S1": 50}
    monkeypatch.setattr(orders, "flash_sale_units_left", lambda sale_id: shards.get(sale_id))
    monkeypatch.setenv("STOCK_BROADCAST_INTERVAL_MS", "200")
    reset_interaction_settings()
    flash_units.clear_cache()

    def send(model, at: str, **fields) -> str:
        evt = _event(model, at, **fields)
        if model.detail_type in broadcasts.consumed.MODELS:
            return broadcasts.handle(evt)
        # Lottery events reach the broadcasts consumer once interaction subscribes to them (H6's wiring);
        # until then the same state step runs on the parsed event.
        return str(state_feed.apply(model.parse(evt["detail"]), ROOM))

    card = dict(product_id="P1", name="羊绒围巾", live_price=19900, stock_left=30)
    send(ProductListed, "2026-12-01T12:00:01Z", **card)
    send(ProductListed, "2026-12-01T12:00:00Z", **{**card, "product_id": "P0"})   # older, delivered late
    send(FlashSaleStarted, "2026-12-01T12:00:02Z", **SALE)
    for n in range(3):    # three orders of the sale: units left 47 (coalesced, the last always published)
        shards["S1"] -= 1
        send(StockChanged, f"2026-12-01T12:00:0{3 + n}Z", flash_sale_id="S1", product_id="P9", delta=-1,
             cause="order")
    send(LotteryOpened, "2026-12-01T12:00:06Z", **LOTTERY)
    repository.add_likes(ROOM, 7)
    repository.add_likes(ROOM, 5)
    assert batcher.publish_like_total(ROOM) == 12

    late = Viewer(broker, stage, 1)
    try:
        got = _retained(late, late.subscribe_state(), {"card", "flash_sale", "lottery", "likes"})
        assert got["card"]["product_id"] == "P1" and got["card"]["price"] == 19900     # not the older P0
        assert got["flash_sale"]["ends_at"] == SALE["ends_at"] and got["flash_sale"]["stock"] == 47
        assert got["flash_sale"]["phase"] == "running"
        assert got["lottery"]["closes_at"] == LOTTERY["closes_at"] and got["lottery"]["keyword"] == "扣1"
        assert got["likes"]["total"] == 12
        assert room_state.read(ROOM, "flash_sale")["stock"] == 47      # GetRetainedMessage: the first read

        # Unlisting a product that is not on show leaves the card; the lottery closes (drawing).
        assert send(ProductUnlisted, "2026-12-01T12:00:07Z", product_id="P0", cause="host") == "published"
        send(LotteryClosed, "2026-12-01T12:00:08Z", lottery_id="L1", entrants=120, entrants_hash="cd" * 32,
             beacon_round=7, draws_at="2026-12-01T12:05:30Z")
        topic, payload, _, _ = late.next()
        drawing = json.loads(payload)
        assert topic.endswith("/state/lottery") and drawing["phase"] == "drawing" and drawing["entrants"] == 120
        assert drawing["keyword"] == "扣1"                               # what was open stays on show

        # Each ends: cleared (an empty retained payload reaches the subscriber too).
        send(ProductUnlisted, "2026-12-01T12:00:09Z", product_id="P1", cause="host")
        send(FlashSaleEnded, "2026-12-01T12:10:00Z", **SALE, stock_left=47, sold_out=False)
        send(LotteryDrawn, "2026-12-01T12:05:31Z", lottery_id="L1", entrants=120, winners=[], prize_kind="points",
             prize_name="100 积分", beacon_round=7, beacon_randomness="ef" * 32)
        cleared = set()
        deadline = time.monotonic() + 3
        while cleared != {"card", "flash_sale", "lottery"} and time.monotonic() < deadline:
            topic, payload, _, _ = late.next(timeout=deadline - time.monotonic())
            if payload == b"":
                cleared.add(topic.rsplit("/", 1)[1])
        assert cleared == {"card", "flash_sale", "lottery"}
        # An older listing delivered after the unlisting does not bring the card back.
        assert send(ProductListed, "2026-12-01T12:00:08Z", **card) == "published"
        assert room_state.read(ROOM, "card") is None
    finally:
        late.close()

    later = Viewer(broker, stage, 2)
    try:
        later.subscribe_state()
        seen = set()
        deadline = time.monotonic() + 0.7
        while (left := deadline - time.monotonic()) > 0:
            try:
                seen.add(later.next(timeout=left)[0].rsplit("/", 1)[1])
            except queue.Empty:
                break
        assert seen == {"likes"}, seen
    finally:
        later.close()

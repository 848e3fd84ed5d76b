"""Every event the broadcasts function consumes, built with its PRODUCER's model (the
owner named in manifest.PRODUCERS, livecommerce.<producer>.events), goes through the
consumer's pure parts: parsing back, the room's message, the video card, the encoding and
the realtime port. A consumer that reads a field its producer does not send fails here."""
from __future__ import annotations

import importlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livecommerce.interaction import broadcasts, cards, consumed, realtime, topics
from livecommerce.interaction.spec import BROADCAST_EVENTS
from livecommerce.manifest import PRODUCERS
from livecommerce.shared import ports
from tests.fakes import RecordingPublisher

ROOM = "01JROOM0000000000000000000"
NOW_MS = 1_796_000_000_000


def producer_model(detail_type: str):
    module = importlib.import_module(f"livecommerce.{PRODUCERS[detail_type]}.events")
    return getattr(module, detail_type)


def instances(detail_type: str):
    """Producer-built events: required fields drawn by hypothesis from the model's types, the
    room a real room id, the envelope fields as the outbox and the bus set them."""
    model = producer_model(detail_type)
    fixed = {"room_id": st.just(ROOM), "event_id": st.just("01JEVENT"),
             "occurred_at": st.just("2026-12-05T12:00:00.123456+00:00")}
    if "name" in model.model_fields:
        fixed["name"] = st.text(min_size=1, max_size=80)   # a product's name is never empty
    return st.builds(model, **fixed)


def wire(event) -> dict:
    """The detail as it reaches the consumer: the producer's detail plus the outbox/bus envelope."""
    return {**event.detail(), "event_id": event.event_id, "occurred_at": event.occurred_at}


@pytest.mark.parametrize("detail_type", BROADCAST_EVENTS)
def test_every_consumed_event_has_a_producer_model(detail_type):
    assert detail_type in PRODUCERS, f"{detail_type}: nobody declares it in spec.emits"
    assert consumed.model_of(detail_type) is producer_model(detail_type)
    assert "room_id" in producer_model(detail_type).model_fields   # broadcasts route by it


@pytest.mark.parametrize("detail_type", BROADCAST_EVENTS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_consumer_reads_what_the_producer_sends(detail_type, data):
    event = data.draw(instances(detail_type))
    detail = wire(event)
    typed = consumed.parse(detail_type, detail)             # no ValidationError
    assert typed == event

    message = broadcasts.message_for(typed, detail)         # no AttributeError
    assert message["type"] == broadcasts.snake(detail_type) and message["room_id"] == ROOM
    assert message["event_id"] == "01JEVENT" and message["at"] == event.occurred_at
    public = broadcasts.public_data(detail)
    public.pop("room_id", None)
    assert message["data"] == public                         # every public field the producer sent is forwarded
    for name in ("product_id", "flash_sale_id", "drop_id", "stock_left", "stock", "price", "live_price", "name"):
        if detail.get(name) is not None:
            assert message["data"][name] == detail[name]

    entry = cards.card_for(typed, at_ms=NOW_MS)
    if detail_type not in cards.CARD_EVENTS:
        assert entry is None
    else:
        card = entry["card"]
        assert card["title"] == event.name[:cards.TITLE_CHARS] and card["title"]
        assert card["price"] == (event.live_price if detail_type == "ProductListed" else event.price)
        assert card["stock"] == (event.stock_left if detail_type == "ProductListed" else event.stock)
        assert card["product_id"] == event.product_id and card["event_id"] == "01JEVENT"
        payload, sent, rest, stale = cards.pack([entry], now_ms=NOW_MS)
        assert payload is not None and len(sent) == 1 and not rest and not stale

    recorder = RecordingPublisher()
    with ports.use(realtime=recorder):
        realtime.publish(topics.events_topic("test", ROOM), message, qos=1)
    assert recorder.messages == [(topics.events_topic("test", ROOM), message)]


def test_a_product_card_has_the_products_name_price_and_stock():
    """The bug this file guards: cards read `title`/`stock`, ProductListed has `name`/`stock_left`."""
    from livecommerce.catalog.events import ProductListed

    event = ProductListed(room_id=ROOM, product_id="01JPRODUCT", name="羊绒围巾 加厚款 冬季保暖", image=None,
                          live_price=9900, stock_left=20, promotion_note="直播专享", event_id="01JEVENT")
    card = cards.card_for(consumed.parse("ProductListed", wire(event)), at_ms=NOW_MS)["card"]
    assert card == {"type": "product_listed", "product_id": "01JPRODUCT", "title": "羊绒围巾 加厚款 冬季保暖",
                    "price": 9900, "live_price": 9900, "stock": 20, "event_id": "01JEVENT"}


def test_a_detail_its_producer_would_not_send_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        consumed.parse("ProductListed", {"room_id": ROOM, "product_id": "P1", "title": "围巾", "stock": 3})
    with pytest.raises(consumed.NotConsumed):
        consumed.parse("OrderPaid", {"room_id": ROOM})

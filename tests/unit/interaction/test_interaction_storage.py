"""The interaction table's PynamoDB models, stream consumers and registration agree with its spec."""
from __future__ import annotations

from livecommerce import manifest
from livecommerce.interaction import spec as wiring
from livecommerce.interaction.storage import MODELS


def test_models_use_the_spec_keys_and_ttl():
    spec = wiring.INTERACTION
    assert spec in manifest.ALL_TABLES and spec.stream and spec.ttl_attribute == "expires_at"
    for model in MODELS:
        attrs = model.get_attributes()
        keys = ({a.attr_name for a in attrs.values() if a.is_hash_key}, {a.attr_name for a in attrs.values()
                                                                         if a.is_range_key})
        assert keys == ({spec.partition_key}, {spec.sort_key}), model.__name__
        assert not model._indexes
        if "expires_at" in attrs:
            assert attrs["expires_at"].attr_name == spec.ttl_attribute


def test_stream_consumers_read_the_interaction_stream_and_match_their_keys():
    from local.mqtt.streams import passes

    insert_msg = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "DM#R#1"}, "sk": {"S": "MSG#01"}}}}
    like = {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "LIKES#R#3"}, "sk": {"S": "TOTAL"}}}}
    gate = {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "ROOM#R"}, "sk": {"S": "GATE#danmaku"}}}}
    by_name = {c.name: c for c in manifest.STREAM_CONSUMERS}
    assert {c.table_logical_id for c in by_name.values()} == {"Interaction"}
    # Danmaku batches come from the accepting API call (interaction.feed), not the stream; the stream
    # gives the like totals and (StoreFacts) the analytics store its likes and danmaku.
    assert set(by_name) == {"LikeTotals", "StoreFacts"}
    assert passes(by_name["LikeTotals"].filters, like) and not passes(by_name["LikeTotals"].filters, gate)
    assert not passes(by_name["LikeTotals"].filters, insert_msg)
    assert passes(by_name["StoreFacts"].filters, insert_msg) and not passes(by_name["StoreFacts"].filters, like)
    assert not passes(by_name["StoreFacts"].filters, gate)


def test_routes_and_subscription_are_registered():
    keys = {r.key for r in manifest.routes_for("interaction")}
    assert "POST /v1/rooms/{room_id}/danmaku" in keys and "GET /v1/rooms/{room_id}/realtime" in keys
    # Every route needs a login but the edge's (the snapshot and the feed: public, cached by CloudFront).
    edge = {"GET /v1/rooms/{room_id}/snapshot", "GET /v1/rooms/{room_id}/feed"}
    assert all(r.auth == ("public" if r.key in edge else "token") for r in manifest.routes_for("interaction"))
    assert edge <= keys
    subs = {s.name: s for s in manifest.SUBSCRIPTIONS if s.function == "broadcasts"}
    assert set(subs) == {"RoomBroadcasts", "FlashSaleUnits"}
    sub = subs["RoomBroadcasts"]
    assert set(wiring.ROOM_LIFECYCLE_EVENTS) <= set(sub.detail_types)
    assert "StockChanged" in sub.detail_types
    # flash-sale buys only (the units left on the card): the rule filters on the order's kind
    units = subs["FlashSaleUnits"].pattern()
    assert units["detail-type"] == ["OrderCreated"] and units["detail"] == {"kind": ["flash_sale"]}

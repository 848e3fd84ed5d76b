"""Likes and danmaku for the analytics store from the interaction stream (interaction.store_facts):
likes summed per user and minute, one fact per message, ids stable for a retried batch, and the
StoreFacts consumer's Lambda filters (spec) let through exactly what the rule uses."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from livecommerce.interaction.spec import SPEC, STORE_FACT_FILTERS
from livecommerce.interaction.store_facts import facts
from local.mqtt.streams import passes

T0 = 1_777_636_800  # 2026-05-01T12:00:00Z, epoch seconds (ApproximateCreationDateTime on AWS)


def counter(room, user, new, old=None, *, at=T0, event="MODIFY", event_id="e", window="LIKES#1"):
    record = {"eventID": event_id, "eventName": event, "dynamodb": {
        "ApproximateCreationDateTime": at,
        "Keys": {"pk": {"S": f"RATE#{room}#{user}"}, "sk": {"S": window}},
        "NewImage": {"pk": {"S": f"RATE#{room}#{user}"}, "sk": {"S": window}, "n": {"N": str(new)}}}}
    if old is not None:
        record["dynamodb"]["OldImage"] = {"n": {"N": str(old)}}
    return record


def message(room, user, message_id, at_ms=T0 * 1000):
    return {"eventID": f"m-{message_id}", "eventName": "INSERT", "dynamodb": {
        "Keys": {"pk": {"S": f"DM#{room}#3"}, "sk": {"S": f"MSG#{message_id}"}},
        "NewImage": {"room_id": {"S": room}, "user_id": {"S": user}, "message_id": {"S": message_id},
                     "at_ms": {"N": str(at_ms)}, "kind": {"S": "text"}, "priority": {"BOOL": False},
                     "text": {"S": "有黑色吗"}}}}


def test_likes_per_user_and_minute_and_one_fact_per_message():
    records = [
        counter("r1", "u1", 5, event="INSERT", event_id="a"),          # first request of the window: 5
        counter("r1", "u1", 8, 5, event_id="b", at=T0 + 10),            # +3
        counter("r1", "u1", 10, 8, event_id="c", at=T0 + 70),           # +2 in the next minute
        counter("r1", "u2", 4, event="INSERT", event_id="d"),
        counter("r1", "u2", 4, 4, event_id="e"),                        # expires_at only: no like
        {**counter("r1", "u3", 9, 9, event_id="f"), "eventName": "REMOVE"},   # TTL removal
        {"eventID": "g", "eventName": "MODIFY", "dynamodb": {           # a room's like shard total
            "Keys": {"pk": {"S": "LIKES#r1#2"}, "sk": {"S": "TOTAL"}}, "NewImage": {"count": {"N": "99"}}}},
        {**counter("r1", "u1", 3, event="INSERT", event_id="h"),        # the danmaku rate counter: not likes
         "dynamodb": {**counter("r1", "u1", 3)["dynamodb"], "Keys": {"pk": {"S": "RATE#r1#u1"}, "sk": {"S": "DM#7"}}}},
        message("r1", "u1", "m1"), message("r1", "u2", "m2"),
    ]
    found = facts(records, now_ms=0)
    likes = sorted((f.user_id, f.at_ms, f.count) for f in found if f.detail_type == "LikesAdded")
    assert likes == [("u1", T0 * 1000, 8), ("u1", (T0 + 70) * 1000, 2), ("u2", T0 * 1000, 4)]
    danmaku = sorted((f.fact_id, f.user_id, f.room_id) for f in found if f.detail_type == "DanmakuSent")
    assert danmaku == [("m1", "u1", "r1"), ("m2", "u2", "r1")]
    row_detail = next(f for f in found if f.detail_type == "LikesAdded").envelope()["detail"]
    assert set(row_detail) == {"event_id", "room_id", "user_id", "count"}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["u1", "u2", "u3"]), st.integers(1, 30), st.integers(0, 200)),
                min_size=1, max_size=12), st.randoms())
def test_ids_and_sums_do_not_depend_on_record_order(changes, rnd):
    records, totals = [], {}
    for i, (user, added, offset) in enumerate(changes):
        old = totals.get(user)
        totals[user] = (old or 0) + added
        records.append(counter("r9", user, totals[user], old, event="MODIFY" if old else "INSERT",
                               event_id=f"ev{i}", at=T0 + offset))
    shuffled = list(records)
    rnd.shuffle(shuffled)
    one = {f.fact_id: f for f in facts(records, now_ms=0)}
    two = {f.fact_id: f for f in facts(shuffled, now_ms=0)}
    assert one == two
    assert sum(f.count for f in one.values()) == sum(added for _, added, _ in changes)


def test_the_consumer_filters_pass_what_the_rule_uses_and_nothing_else():
    (consumer,) = [c for c in SPEC.stream_consumers if c.name == "StoreFacts"]
    assert consumer.filters == STORE_FACT_FILTERS and consumer.function == "realtime_batcher"
    useful = [counter("r1", "u1", 5, event="INSERT"), counter("r1", "u1", 8, 5), message("r1", "u1", "m1")]
    useless = [{**counter("r1", "u1", 9, 9), "eventName": "REMOVE"}, {**message("r1", "u1", "m2"), "eventName": "MODIFY"},
               {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "LIKES#r1#2"}, "sk": {"S": "TOTAL"}}}}]
    assert all(passes(consumer.filters, r) for r in useful)
    assert not any(passes(consumer.filters, r) for r in useless)
    assert len(facts(useful, now_ms=0)) == 2 and facts(useless, now_ms=0) == []

"""Live figures' pure rules: which lifecycle events mean a join or a leave, and that duplicates and
any delivery order leave each client's presence (and so the online counter) as its newest event says."""
from __future__ import annotations

from hypothesis import given, strategies as st

from livecommerce.analytics import live_rules
from livecommerce.interaction import topics

ROOM = "01J00000000000000000000000"
STAGE = "local"
CLIENT = topics.client_id_prefix(STAGE, "viewer-1") + "abcdefabcdef"


def test_lifecycle_events_to_transitions():
    events = topics.events_topic(STAGE, ROOM)
    subscribed = {"clientId": CLIENT, "timestamp": 5, "eventType": "subscribed",
                  "topics": [topics.danmaku_topic(STAGE, ROOM), events, events]}
    assert live_rules.transitions(subscribed, STAGE) == [
        live_rules.Transition("join", CLIENT, "viewer-1", 5, ROOM)]
    assert live_rules.transitions({**subscribed, "eventType": "unsubscribed"}, STAGE)[0].kind == "leave"
    # only the events topic counts; other stages, foreign clients, other event types, bad fields: nothing
    assert live_rules.transitions({**subscribed, "topics": [topics.danmaku_topic(STAGE, ROOM)]}, STAGE) == []
    assert live_rules.transitions(subscribed, "prod") == []
    assert live_rules.transitions({**subscribed, "clientId": "someone-else"}, STAGE) == []
    assert live_rules.transitions({**subscribed, "eventType": "connected"}, STAGE) == []
    assert live_rules.transitions({**subscribed, "timestamp": "5"}, STAGE) == []
    assert live_rules.transitions({"clientId": CLIENT, "timestamp": 9, "eventType": "disconnected"}, STAGE) == [
        live_rules.Transition("leave", CLIENT, "viewer-1", 9)]


def _replay(deliveries):
    """What analytics.live does with each delivery: the presence and the online counter."""
    presence, online = None, 0
    for t in deliveries:
        decision = live_rules.decide(t, presence)
        if decision != "ignore":
            presence = {"state": "in" if t.kind == "join" else "out", "at_ms": t.at_ms,
                        "room_id": t.room_id or (presence or {}).get("room_id")}
        if decision == "change":
            online += 1 if t.kind == "join" else -1
    return presence, online


@given(st.lists(st.booleans(), min_size=1, max_size=8), st.randoms(use_true_random=False), st.integers(0, 3))
def test_any_order_and_duplicates_end_as_the_newest_event_says(kinds, rnd, duplicates):
    sent = [live_rules.Transition("join" if join else "leave", CLIENT, "viewer-1", 100 + i,
                                  ROOM if join else None) for i, join in enumerate(kinds)]
    deliveries = sent + [rnd.choice(sent) for _ in range(duplicates)]
    rnd.shuffle(deliveries)
    presence, online = _replay(deliveries)
    newest = sent[-1]
    assert online in (0, 1)
    assert online == (1 if newest.kind == "join" else 0) and presence["at_ms"] == newest.at_ms


def test_shards_and_minutes():
    assert {live_rules.shard_of(f"c{i}") for i in range(200)} == set(range(live_rules.COUNTER_SHARDS))
    from datetime import datetime, timezone

    assert live_rules.minute_of(datetime(2026, 5, 1, 12, 3, 59, tzinfo=timezone.utc)) == "2026-05-01T12:03:00Z"

"""Issue 17 outcome 4: a room switches between push and poll by its live audience. The count comes
from IoT Core lifecycle events (analytics' sharded counters) and reaches interaction through the
live-figures ticker (one call per room per 5 s, nothing per viewer); the switch has hysteresis in
count (poll from N, push below 0.8 N) and in time (at most one a minute), the explicit room setting
overrides it, and each switch publishes the `delivery` message exactly once. In poll mode like
totals are not pushed (the feed carries them) and the retained like total is cleared."""
from __future__ import annotations

import os

import pytest

from tests.polling import poll

pytestmark = pytest.mark.integration


def _lifecycle(kind: str, client: str, at: int, *topics: str) -> dict:
    event = {"clientId": client, "timestamp": at, "eventType": kind, "sessionIdentifier": "s",
             "principalIdentifier": "p"}
    if kind == "subscribed":
        event["topics"] = list(topics)
    return event


@pytest.fixture
def audience(monkeypatch):
    from livecommerce.interaction.settings import reset_interaction_settings

    def configure(threshold: int, gap_seconds: int) -> None:
        monkeypatch.setenv("DANMAKU_POLL_ABOVE_VIEWERS", str(threshold))
        monkeypatch.setenv("DANMAKU_DELIVERY_SWITCH_GAP_SECONDS", str(gap_seconds))
        reset_interaction_settings()

    return configure


def test_the_audience_switches_the_room_once_each_way_and_likes_follow(api, tokens_for, room, published, pump,
                                                                        audience):
    from livecommerce import analytics
    from local.lambda_runtime import invoke

    audience(threshold=3, gap_seconds=60)
    stage = os.environ["STAGE"]
    events_topic = f"lc/{stage}/rooms/{room}/events"
    clients = [f"lc-{stage}-viewer-{n}-{str(n) * 12}" for n in range(1, 4)]

    def tick() -> None:
        invoke("live_stats", {"room_id": room, "host_id": "host-1", "ticker_id": "t"})

    def controls() -> list[str]:
        return [m["mode"] for m in published.on("/events") if m.get("type") == "delivery"]

    def likes_pushed() -> list[dict]:
        return [m for m in published.on("/state/likes") if m.get("type") == "likes"]   # the like message

    def like_and_pump(user: str) -> None:
        assert api.call("POST", f"/v1/rooms/{room}/likes", token=tokens_for(user), json_body={"count": 5}).status == 202
        pump.drain()

    for at, client in enumerate(clients[:2], start=1):
        invoke("live_stats", _lifecycle("subscribed", client, at * 100, events_topic))
    tick()
    assert controls() == []                                           # 2 < 3: push
    like_and_pump("viewer-1")
    assert [m["total"] for m in likes_pushed()] == [5]                # push mode: like totals pushed

    invoke("live_stats", _lifecycle("subscribed", clients[2], 300, events_topic))
    assert analytics.live_viewers(room) == 3
    tick()
    tick()                                                            # the next tick does not repeat it
    assert controls() == ["poll"]
    message = [m for m in published.on("/events") if m.get("type") == "delivery"][0]
    assert message["feed"] == f"/v1/rooms/{room}/feed" and message["poll_interval_ms"] == 1500
    cleared = [t for t, p in published._backend.published_payloads if t.endswith("/state/likes") and not p]
    assert len(cleared) == 1                                          # the retained like total is cleared
    assert api.call("GET", f"/v1/rooms/{room}/realtime", token=tokens_for("viewer-1")).json()["delivery"] == "poll"

    like_and_pump("viewer-2")
    assert [m["total"] for m in likes_pushed()] == [5]                # poll mode: no like total pushed
    feed = api.call("GET", f"/v1/rooms/{room}/feed?seq=0").json()
    assert feed["delivery"] == "poll" and feed["likes_total"] == 10   # the feed carries it

    # Everyone leaves within the minute: the room stays in poll (at most one switch a minute).
    for at, client in enumerate(clients, start=5):
        invoke("live_stats", _lifecycle("disconnected", client, at * 100))
    tick()
    assert controls() == ["poll"]

    # After the minute (the gap set to 0 here): 2 viewers is not below 0.8 x 3 = 2, so still poll;
    # 1 viewer is, so push again, announced once.
    audience(threshold=3, gap_seconds=0)
    for at, client in enumerate(clients[:2], start=10):
        invoke("live_stats", _lifecycle("subscribed", client, at * 100, events_topic))
    tick()
    assert controls() == ["poll"]
    invoke("live_stats", _lifecycle("disconnected", clients[1], 1200))
    tick()
    tick()
    assert controls() == ["poll", "push"]
    like_and_pump("viewer-3")
    # pushed again (at once, or by the batcher's check when a like message went out under 2 s ago)
    assert poll(lambda: [m["total"] for m in likes_pushed()] == [5, 15] or None, 8)


def test_the_explicit_setting_overrides_the_audience(api, tokens_for, room, published, audience):
    from local.lambda_runtime import invoke

    audience(threshold=2, gap_seconds=0)
    stage = os.environ["STAGE"]
    events_topic = f"lc/{stage}/rooms/{room}/events"
    host = tokens_for("host-1")

    def controls() -> list[str]:
        return [m["mode"] for m in published.on("/events") if m.get("type") == "delivery"]

    pinned = api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host, json_body={"delivery": "push"})
    assert pinned.status == 200 and controls() == []                  # push already: nothing to announce
    for n in range(1, 4):
        invoke("live_stats", _lifecycle("subscribed", f"lc-{stage}-fan-{n}-{str(n) * 12}", n, events_topic))
    invoke("live_stats", {"room_id": room, "host_id": "host-1", "ticker_id": "t"})
    assert controls() == []                                           # the setting holds
    assert api.call("GET", f"/v1/rooms/{room}/realtime", token=tokens_for("fan-1")).json()["delivery"] == "push"
    # A settings change (quick phrases) keeps the audience rule's record: it was written beside it.
    kept = api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host, json_body={"quick_phrases": ["想要"]})
    assert kept.status == 200 and kept.json()["delivery"] == "push"
    # Back to the audience rule: the room is in poll at once (the rule kept deciding), announced once.
    freed = api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host, json_body={"delivery": None})
    assert freed.status == 200 and freed.json()["delivery"] is None
    assert controls() == ["poll"]
    invoke("live_stats", {"room_id": room, "host_id": "host-1", "ticker_id": "t"})
    assert controls() == ["poll"]


def test_racing_ticks_switch_once_and_an_unannounced_switch_is_undone(api, tokens_for, room, published, audience,
                                                                      monkeypatch):
    import threading

    from livecommerce import interaction
    from livecommerce.interaction import realtime, repository, service

    audience(threshold=2, gap_seconds=0)

    def controls() -> list[str]:
        return [m["mode"] for m in published.on("/events") if m.get("type") == "delivery"]

    # The announcement cannot be published: the switch is put back, so the next tick tries again.
    def fail(*args, **kwargs):
        raise realtime.PublishFailed("iot-data down")

    with monkeypatch.context() as patched:
        patched.setattr(service, "publish", fail)
        assert interaction.follow_audience(room, 5) is None
    assert controls() == []
    assert api.call("GET", f"/v1/rooms/{room}/realtime", token=tokens_for("viewer-1")).json()["delivery"] == "push"

    # Four ticks read the same state before any of them writes: one conditional write wins, one message.
    barrier, original = threading.Barrier(4, timeout=10), repository.get_room_settings

    def read_together(room_id, **kwargs):
        item = original(room_id, **kwargs)
        barrier.wait()
        return item

    monkeypatch.setattr(service.repository, "get_room_settings", read_together)
    results: list[str | None] = []
    threads = [threading.Thread(target=lambda: results.append(interaction.follow_audience(room, 5)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert sorted(results, key=str) == [None, None, None, "poll"] and controls() == ["poll"]

    # What a tick costs interaction with no switch, whatever the audience: one read of the settings item.
    import botocore.client

    calls: list[str] = []
    make = botocore.client.BaseClient._make_api_call

    def counted(self, operation, params):
        calls.append(operation)
        return make(self, operation, params)

    monkeypatch.setattr(service.repository, "get_room_settings", original)
    assert interaction.follow_audience(room, 1_000_000) is None       # the feed cadence goes to 2 s (once)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    for viewers in (9_000, 1_000_000):
        calls.clear()
        assert interaction.follow_audience(room, viewers) is None
        assert calls == ["GetItem"], calls


def test_the_feed_cadence_follows_the_audience_announced_once_each_way(api, tokens_for, room, published, audience,
                                                                         monkeypatch):
    """Issue 17 outcome 5: poll-mode clients read the feed every second just past the switch and every
    two seconds in a large room (half the edge requests, the cost that dominates at 1 s); back to 1 s
    only below 80 % of that size. The delivery message, the realtime answer and every feed answer
    carry the cadence; a change is recorded and announced once however many ticks race."""
    from livecommerce import interaction
    from livecommerce.interaction.settings import reset_interaction_settings

    monkeypatch.setenv("DANMAKU_SLOW_POLL_FROM_VIEWERS", "10")
    audience(threshold=2, gap_seconds=0)

    def deliveries() -> list[tuple[str, int]]:
        return [(m["mode"], m["poll_interval_ms"]) for m in published.on("/events") if m.get("type") == "delivery"]

    def answers() -> tuple[int, int]:
        realtime = api.call("GET", f"/v1/rooms/{room}/realtime", token=tokens_for("viewer-1")).json()
        feed = api.call("GET", f"/v1/rooms/{room}/feed?seq=0").json()
        return realtime["poll_interval_ms"], feed["poll_interval_ms"]

    from livecommerce.interaction import repository

    assert interaction.follow_audience(room, 3) == "poll"
    assert deliveries() == [("poll", 1500)]                      # the shipped cadence past the switch
    assert answers() == (1500, 1500)
    assert interaction.follow_audience(room, 12) is None           # large: 2 s, announced in the same mode
    assert interaction.follow_audience(room, 12) is None           # not again
    assert interaction.follow_audience(room, 8) is None            # 8 is not below 0.8 x 10: still 2 s
    assert deliveries() == [("poll", 1500), ("poll", 2000)]
    repository.clear_caches()
    assert answers() == (2000, 2000)
    assert interaction.follow_audience(room, 7) is None            # below 8: 1.5 s again
    assert deliveries()[-1] == ("poll", 1500) and len(deliveries()) == 3
    repository.clear_caches()
    assert answers() == (1500, 1500)
    # A large room that is back in push records its cadence but announces nothing (no client polls);
    # switching to poll later announces the cadence it has by then.
    assert interaction.follow_audience(room, 0) == "push"
    monkeypatch.setenv("DANMAKU_POLL_ABOVE_VIEWERS", "50")
    reset_interaction_settings()
    assert interaction.follow_audience(room, 20) is None
    assert deliveries()[-1] == ("push", 1500) and len(deliveries()) == 4
    assert interaction.follow_audience(room, 60) == "poll"
    assert deliveries()[-1] == ("poll", 2000) and len(deliveries()) == 5

"""A planned switch on AWS (issue 15 outcome 3): the host moving into a composition ends the channel's
stream (Stream End) and the composition's starts another (Stream Start). IVS-shaped events through the
stream_events function on moto: inside the planned-switch window no interruption is announced when
the stream comes back, and it is when nothing comes back before the window closes (the check the held
end asks for, one asynchronous invocation of stream_events, delivered here as Lambda would)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from fakes import FakeClock, InMemoryBus

pytestmark = pytest.mark.integration


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _ivs_event(room: dict, name: str, stream_id: str, at: datetime) -> dict:
    return {"version": "0", "id": str(uuid.uuid4()), "source": "aws.ivs", "account": "000000000000",
            "time": _iso(at), "region": "ap-northeast-1", "resources": [room["channel_arn"]],
            "detail-type": "IVS Stream State Change",
            "detail": {"event_name": name, "channel_name": room["channel_name"], "stream_id": stream_id}}


@pytest.fixture
def on_air(api, tokens_for, ivs_env, monkeypatch):
    """A live room (its first stream started), a clock the test moves, the asynchronous invocations
    the rooms service asks for, recorded, and the domain events it publishes (the bus port; the
    interaction context turns StreamInterrupted into the viewers' "host is reconnecting" notice)."""
    from livecommerce.rooms import repository, service
    from livecommerce.shared import ports
    from local.lambda_runtime import invoke

    clock = FakeClock(datetime.now(timezone.utc).replace(microsecond=0))
    asked: list[tuple[str, dict]] = []
    monkeypatch.setattr(service, "invoke_async", lambda name, payload: asked.append((name, payload)) or True)
    bus = InMemoryBus()
    with ports.use(clock=clock, bus=bus):
        created = api.call("POST", "/v1/rooms", token=tokens_for("host-1"),
                           json_body={"title": "Co-stream", "scheduled_start": _iso(clock.at + timedelta(hours=1))})
        assert created.status == 201, created.body
        item = repository.get_room(created.json()["id"], consistent=True)
        room = {"id": item.room_id, "channel_arn": item.channel_arn, "channel_name": item.channel_name}
        assert invoke("stream_events", _ivs_event(room, "Stream Start", "st-host", clock.at))["status"] == "live"
        yield room, clock, asked, lambda event: invoke("stream_events", event), bus


def _count(bus: InMemoryBus, detail_type: str, room_id: str) -> int:
    return sum(1 for detail in bus.of(detail_type) if detail.get("room_id") == room_id)


def test_planned_switch_holds_the_drop_and_a_real_drop_is_announced(on_air, api):
    from livecommerce import rooms

    room, clock, asked, deliver, bus = on_air
    assert _count(bus, "RoomStarted", room["id"]) == 1
    # Into the composition: the window opens, the host's stream ends, the composition's starts 6 s later.
    clock.advance(60)
    until = rooms.plan_switch(room["id"])
    assert until == _iso(clock.at + timedelta(seconds=30))
    clock.advance(2)
    assert deliver(_ivs_event(room, "Stream End", "st-host", clock.at))["status"] == "live"
    ((callee, check),) = asked
    assert callee == "stream_events"
    assert check["planned_switch_check"] == {"room_id": room["id"],
                                             "at_ms": int(datetime.fromisoformat(until).timestamp() * 1000)}
    clock.advance(6)
    assert deliver(_ivs_event(room, "Stream Start", "st-composition", clock.at))["status"] == "live"
    clock.advance(30)
    assert deliver(check)["status"] == "live"                       # the check finds it back: nothing
    assert api.call("GET", f"/v1/rooms/{room['id']}").json()["room"]["status"] == "live"
    assert _count(bus, "StreamInterrupted", room["id"]) == 0

    # Out again, and this time nothing comes back: interrupted when the window closes, not before.
    asked.clear()
    clock.advance(60)
    until = rooms.plan_switch(room["id"])
    clock.advance(1)
    assert deliver(_ivs_event(room, "Stream End", "st-composition", clock.at))["status"] == "live"
    ((_, check),) = asked
    clock.advance(10)
    assert deliver(check)["status"] == "live"           # woken early (a clock skew): still held, asks again
    assert len(asked) == 2 and asked[1][1] == check
    clock.advance(20)
    assert deliver(check)["status"] == "interrupted"
    assert _count(bus, "StreamInterrupted", room["id"]) == 1 and _count(bus, "RoomStarted", room["id"]) == 1

    # Without a planned switch a drop is announced at once, as before.
    clock.advance(5)
    assert deliver(_ivs_event(room, "Stream Start", "st-host-2", clock.at))["status"] == "live"
    clock.advance(120)
    assert deliver(_ivs_event(room, "Stream End", "st-host-2", clock.at))["status"] == "interrupted"
    assert _count(bus, "StreamInterrupted", room["id"]) == 2 and _count(bus, "StreamResumed", room["id"]) == 1

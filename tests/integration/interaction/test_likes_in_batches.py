"""The like total inside the danmaku batches (push mode, issue 17 outcome 5): the batches that go out
anyway carry `likes_total`; a separate like message (the retained state/likes) only when nothing went
out for LIKE_BROADCAST_INTERVAL_MS, so an idle room's count still moves; batches and like messages
together stay at most 5 a second per viewer. Through the API, the stream pump and the realtime batcher
on moto (moto's iot-data backend records every Publish)."""
from __future__ import annotations

import pytest

from tests.polling import poll

pytestmark = pytest.mark.integration


def _deliveries(published) -> list[tuple[int, str, int | None]]:
    """What a viewer of the room receives on the crowd's paths: (at, topic kind, like total carried)."""
    found = [(m["at"], "batch", m.get("likes_total")) for m in published.on("/danmaku")]
    found += [(m["at"], "likes", m["total"]) for m in published.on("/state/likes")]
    return sorted(found)


def test_batches_carry_the_like_total_and_an_idle_room_gets_a_like_message(api, room, published, pump):
    from livecommerce.interaction import repository
    from livecommerce.interaction.feed import DANMAKU_GATE

    liker, talker = api.login("liker-1"), api.login("talker-1")

    def like(n: int) -> None:
        assert api.call("POST", f"/v1/rooms/{room}/likes", token=liker, json_body={"count": n}).status == 202
        pump.drain()

    def say(text: str) -> None:
        assert api.call("POST", f"/v1/rooms/{room}/danmaku", token=talker, json_body={"text": text}).status == 201

    # 1. An idle room (nothing went out yet): the total goes out at once as a like message.
    like(3)
    assert [m["total"] for m in published.on("/state/likes")] == [3]

    # 2. Busy: likes recorded while a delivery went out less than 2 s ago wait on the gate, and the
    # next batch carries them; the check asked for then finds them delivered and sends nothing.
    like(4)
    assert [m["total"] for m in published.on("/state/likes")] == [3]
    assert repository.read_gate(room, DANMAKU_GATE).likes_total == 7
    say("主播好")
    batches = poll(lambda: published.on("/danmaku") or None, 5)
    assert batches[-1]["likes_total"] == 7 and [i["text"] for i in batches[-1]["items"]] == ["主播好"]
    gate = repository.read_gate(room, DANMAKU_GATE)
    assert gate.likes_sent == 7 and gate.likes_check_ms is not None
    # 3. The room goes quiet after a like: no batch will carry it, so the check (2 s later) sends it.
    like(5)
    last = poll(lambda: published.on("/state/likes")[-1] if published.on("/state/likes")[-1]["total"] == 12
                else None, 8)
    assert last["total"] == 12
    # The check that followed step 2 sent nothing: the batch had carried 7.
    assert [m["total"] for m in published.on("/state/likes")] == [3, 12]

    # The density rule counting like messages: deliveries at least 200 ms apart, so at most 5 a second.
    got = _deliveries(published)
    stamps = [at for at, _, _ in got]
    assert all(b - a >= 200 for a, b in zip(stamps, stamps[1:])), got
    assert max(sum(1 for s in stamps if t <= s < t + 1000) for t in stamps) <= 5
    # Every total that went out is exact and never goes back.
    carried = [total for _, _, total in got if total is not None]
    assert carried == sorted(carried) and carried[-1] == repository.like_total(room) == 12

"""LotteryEntered (for analytics' lottery_only tag): one event per accepted entry, with the user id
on the bus (never broadcast to the room), none for a refused or repeated entry."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_each_accepted_entry_is_announced_once(shop, aws_env):
    from livecommerce.analytics.event_log import events_for
    from livecommerce.engagement.events import LotteryEntered
    from livecommerce.interaction.spec import BROADCAST_EVENTS
    from local.event_delivery import drain_queue
    from local.resources import LocalNames, delivery_queue_name

    room_id = shop.room()
    for viewer in ("viewer-1", "viewer-2"):
        shop.ok(shop.call("PUT", "/v1/hosts/host-1/follow", viewer))
    lottery = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/lotteries", "host-1", {
        "kind": "follow", "prize": {"kind": "points", "name": "10 积分", "points": 10}, "winners": 1,
        "duration_seconds": 60}), 201)
    for viewer in ("viewer-1", "viewer-2", "viewer-1"):             # viewer-1 twice: 409 the second time
        shop.call("POST", f"/v1/lotteries/{lottery['id']}/entries", viewer)
    assert shop.call("POST", f"/v1/lotteries/{lottery['id']}/entries", "viewer-6").status == 403   # not following
    sqs = aws_env.client("sqs")
    url = sqs.get_queue_url(QueueName=delivery_queue_name(LocalNames(), "EventLog"))["QueueUrl"]
    drain_queue(sqs, url, "domain_events")
    entered = [LotteryEntered.parse(e["detail"]) for e in events_for(f"ROOM#{room_id}")
               if e["detail_type"] == "LotteryEntered"]
    assert sorted(e.user_id for e in entered) == ["viewer-1", "viewer-2"]
    assert {(e.lottery_id, e.room_id, e.via) for e in entered} == {(lottery["id"], room_id, "entry")}
    assert "LotteryEntered" not in BROADCAST_EVENTS

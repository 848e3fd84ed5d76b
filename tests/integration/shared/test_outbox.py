"""A change and its domain events commit together; events stranded by a crash
before publishing reach the bus later, once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.integration


def test_bus_outage_does_not_fail_the_request_and_the_sweeper_publishes_later(api, tokens_for, ivs_env,
                                                                                 monkeypatch):
    from livecommerce.analytics.event_log import events_for
    from livecommerce.rooms import repository
    from livecommerce.shared import events
    from local.event_delivery import drain
    from local.lambda_runtime import invoke
    from local.resources import LocalNames

    def bus_down(*args, **kwargs):
        raise events.EventPublishError("bus unavailable")

    monkeypatch.setattr(events, "publish", bus_down)
    monkeypatch.setattr(events, "publish_many", bus_down)
    start = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    created = api.call("POST", "/v1/rooms", token=tokens_for("host-1"),
                       json_body={"title": "outage", "scheduled_start": start})
    assert created.status == 201, created.body
    room_id = created.json()["id"]
    monkeypatch.undo()

    drain(ivs_env, LocalNames())
    assert events_for(f"ROOM#{room_id}") == []  # nothing reached the bus yet

    assert repository.sweep_outbox(older_than_seconds=3600) == 0  # too fresh for the sweeper
    assert invoke("outbox_sweeper", {"id": "tick"}) == {"published": 0}
    assert repository.sweep_outbox(older_than_seconds=-5) == 1
    assert repository.sweep_outbox(older_than_seconds=-5) == 0  # and only once
    drain(ivs_env, LocalNames())
    assert [e["detail_type"] for e in events_for(f"ROOM#{room_id}")] == ["RoomCreated"]

"""Identity's events go through its outbox: a bus outage fails no request, and the outbox
sweeper (which sweeps rooms and identity) publishes what was left, once."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_the_sweeper_publishes_identity_events_the_bus_missed(api, tokens_for, seeded, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from livecommerce.analytics.event_log import events_for
    from livecommerce.shared import events, ports
    from local.event_delivery import drain
    from local.lambda_runtime import invoke
    from local.resources import LocalNames
    from tests.fakes import FakeClock

    token = tokens_for("viewer-1")

    def bus_down(*args, **kwargs):
        raise events.EventPublishError("bus unavailable")

    monkeypatch.setattr(events, "publish", bus_down)
    monkeypatch.setattr(events, "publish_many", bus_down)
    # Written an hour ago by the clock port, so the sweeper's 30-second grace is long past.
    with ports.use(clock=FakeClock(datetime.now(timezone.utc) - timedelta(hours=1))):
        followed = api.call("PUT", "/v1/hosts/host-2/follow", token=token)
    assert followed.status == 200 and followed.json()["changed"] is True
    monkeypatch.undo()

    assert invoke("outbox_sweeper", {"id": "tick"})["published"] == 1
    assert invoke("outbox_sweeper", {"id": "tick"})["published"] == 0   # and only once
    drain(seeded, LocalNames())
    follows = [e for e in events_for("HOST#host-2") if e["detail_type"] == "HostFollowed"]
    assert [e["detail"]["viewer_id"] for e in follows] == ["viewer-1"]

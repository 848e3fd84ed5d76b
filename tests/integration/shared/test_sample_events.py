"""The sample events in events/ drive the real handlers as documented."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
EVENTS = Path(__file__).resolve().parents[3] / "events"


def test_sample_login_request_logs_in_through_the_identity_function(seeded):
    from local.lambda_runtime import invoke

    response = invoke("identity", json.loads((EVENTS / "api" / "login-dev.json").read_text()))
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["user"]["id"] == "host-1"
    assert response["headers"]["X-Correlation-Id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_sample_domain_event_is_stored_once_in_the_event_log(aws_env):
    from livecommerce.analytics.event_log import events_for
    from local.lambda_runtime import invoke

    event = json.loads((EVENTS / "eventbridge" / "room-started.json").read_text())
    assert invoke("domain_events", event) == {"stored": True}
    assert invoke("domain_events", event) == {"stored": False}
    stored = events_for("ROOM#01JROOMEXAMPLE0000000000AB")
    assert [e["detail_type"] for e in stored] == ["RoomStarted"]

"""Fixtures of the real-time room channel: a room (by host-1), the stream pump
that feeds the realtime batcher, and the messages our functions published
through boto3 `iot-data` (recorded by moto)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest


def future(hours: float = 2) -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


@pytest.fixture(autouse=True)
def _fresh_interaction_state():
    from livecommerce.interaction import service
    from livecommerce.interaction.settings import reset_interaction_settings

    reset_interaction_settings()
    service.clear_caches()
    yield
    reset_interaction_settings()
    service.clear_caches()


class Published:
    """What went to IoT Core (moto's iot-data backend keeps every Publish)."""

    def __init__(self, region: str) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.iotdata.models import iotdata_backends

        self._backend = iotdata_backends[DEFAULT_ACCOUNT_ID][region]

    def all(self) -> list[tuple[str, dict]]:
        # An empty payload is a retained state's clear (interaction.room_state), not a message.
        return [(topic, json.loads(payload)) for topic, payload in self._backend.published_payloads if payload]

    def on(self, suffix: str) -> list[dict]:
        return [message for topic, message in self.all() if topic.endswith(suffix)]

    def topics(self) -> list[str]:
        return [topic for topic, _ in self.all()]

    def clear(self) -> None:
        self._backend.published_payloads.clear()


@pytest.fixture
def published(aws_env) -> Published:
    found = Published(aws_env.region_name)
    found.clear()
    return found


@pytest.fixture
def pump(aws_env):
    from livecommerce.interaction.spec import INTERACTION
    from local.mqtt.streams import StreamPump
    from local.resources import LocalNames

    return StreamPump(aws_env, {"Interaction": INTERACTION.physical_name(LocalNames().prefix)})


@pytest.fixture
def make_room(api, tokens_for, ivs_env):
    def make(host: str = "host-1", *, visibility: str = "public", start: bool = True) -> str:
        token = tokens_for(host)
        created = api.call("POST", "/v1/rooms", token=token,
                           json_body={"title": "冬季好物专场", "scheduled_start": future(), "visibility": visibility})
        assert created.status == 201, created.body
        room_id = created.json()["id"]
        if start:
            started = api.call("POST", f"/v1/rooms/{room_id}/start", token=token)
            assert started.status == 200, started.body
        return room_id

    return make


@pytest.fixture
def room(make_room) -> str:
    return make_room()

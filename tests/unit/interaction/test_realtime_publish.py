"""Publishing to the room channel through the realtime port (a recording fake here; IoT
Core's data plane in production): encoding, the size limit, failures."""
from __future__ import annotations

import pytest

from livecommerce.interaction import realtime
from livecommerce.shared import ports
from tests.fakes import RecordingPublisher

TOPIC = "lc/test/rooms/01JROOM/events"


class Refusing:
    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None:
        raise ConnectionError("broker away")


def test_a_message_goes_through_the_port_as_compact_utf8_json():
    recorder = RecordingPublisher()
    message = {"type": "danmaku", "items": [{"text": "想要 ×57"}]}
    with ports.use(realtime=recorder):
        size = realtime.publish(TOPIC, message, qos=1)
    assert recorder.messages == [(TOPIC, message)]
    assert size == len(realtime.encode(message)) == len('{"type":"danmaku","items":[{"text":"想要 ×57"}]}'.encode())


def test_a_message_over_iot_cores_limit_is_refused_before_publishing():
    recorder = RecordingPublisher()
    with ports.use(realtime=recorder), pytest.raises(realtime.PublishFailed, match="over IoT Core"):
        realtime.publish(TOPIC, {"text": "x" * realtime.MAX_PAYLOAD_BYTES})
    assert recorder.messages == []


def test_a_refused_publish_is_publish_failed_and_best_effort_only_logs():
    with ports.use(realtime=Refusing()):
        with pytest.raises(realtime.PublishFailed, match="ConnectionError"):
            realtime.publish(TOPIC, {"type": "likes"})
        assert realtime.publish_best_effort(TOPIC, {"type": "muted"}, qos=1) is False
    recorder = RecordingPublisher()
    with ports.use(realtime=recorder):
        assert realtime.publish_best_effort(TOPIC, {"type": "muted"}, qos=1) is True
    assert recorder.messages == [(TOPIC, {"type": "muted"})]


def test_the_client_url_is_the_configured_one_off_aws(monkeypatch):
    monkeypatch.setenv("REALTIME_ENDPOINT", "ws://127.0.0.1:8083/mqtt")
    assert realtime.mqtt_url("ws://127.0.0.1:8083/mqtt") == "ws://127.0.0.1:8083/mqtt"

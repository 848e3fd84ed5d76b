"""Publishing to the room channel: one JSON message to one topic (one publish
reaches every subscriber of it; we never loop over connections).

The message is encoded and size-checked here; it goes out through the realtime
port (`ports.get().realtime`, IoT Core's data plane on AWS and on the local
stack: livecommerce.shared.realtime_publisher, which also finds the account's
endpoint), so a test can record it with a fake publisher.
"""
from __future__ import annotations

import json
import os
from typing import Any

from livecommerce.shared import ports
from livecommerce.shared.observability import logger
from livecommerce.shared.realtime_publisher import data_endpoint

MAX_PAYLOAD_BYTES = 128 * 1024     # IoT Core message size limit


class PublishFailed(RuntimeError):
    pass


def mqtt_url(configured: str) -> str:
    """What clients connect to: REALTIME_ENDPOINT when set, else wss://<ATS endpoint>/mqtt."""
    address = None if os.environ.get("REALTIME_ENDPOINT") else data_endpoint()
    return f"wss://{address}/mqtt" if address else configured


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def publish(topic: str, message: dict[str, Any], *, qos: int = 0, retain: bool = False) -> int:
    """Publish one JSON message; returns its size in bytes. Raises PublishFailed."""
    payload = encode(message)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PublishFailed(f"payload of {len(payload)} bytes is over IoT Core's {MAX_PAYLOAD_BYTES}")
    try:
        ports.get().realtime.publish(topic, payload, qos=qos, retain=retain)
    except Exception as exc:  # noqa: BLE001 - botocore errors and transport failures alike
        raise PublishFailed(f"publish to {topic} failed: {type(exc).__name__}") from exc
    return len(payload)


def publish_best_effort(topic: str, message: dict[str, Any], *, qos: int = 0) -> bool:
    """For echoes and notices the caller does not wait on: logged, never raised."""
    try:
        publish(topic, message, qos=qos)
        return True
    except PublishFailed:
        logger.warning("best-effort publish failed", extra={"topic": topic, "type": message.get("type")})
        return False

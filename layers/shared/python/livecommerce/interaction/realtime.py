"""The one adapter that publishes to the room channel: boto3 `iot-data`
Publish (one call reaches every subscriber of the topic; we never loop over
connections).

Endpoint: on the local stack `AWS_ENDPOINT_URL_IOT_DATA_PLANE` (botocore's
service-specific endpoint variable for the "IoT Data Plane" service id) points
at the local broker's publish endpoint, which speaks the same REST API
(`POST /topics/{topic}?qos=&retain=`) and hands the message to the MQTT
broker, so this code path is the same in both places. On AWS (no endpoint
variable, a deployed stage) the account's ATS data endpoint is looked up once
per container with `iot:DescribeEndpoint` (it is account-specific and cannot be
known at synth time); the same address serves MQTT over WSS to clients.
"""
from __future__ import annotations

import json
from typing import Any

import os
import threading

from livecommerce.shared import aws
from livecommerce.shared.observability import logger

_lock = threading.Lock()
_discovered: dict[str, str] = {}

MAX_PAYLOAD_BYTES = 128 * 1024     # IoT Core message size limit


class PublishFailed(RuntimeError):
    pass


def _explicit_endpoint() -> bool:
    return bool(os.environ.get("AWS_ENDPOINT_URL_IOT_DATA_PLANE") or os.environ.get("AWS_ENDPOINT_URL"))


def data_endpoint() -> str | None:
    """The account's IoT Core ATS data endpoint (host name), looked up once; None when
    the environment names an endpoint (local stack) or on the local stage (moto)."""
    if _explicit_endpoint() or os.environ.get("STAGE", "local") == "local":
        return None
    with _lock:
        if "address" not in _discovered:
            _discovered["address"] = aws.client("iot").describe_endpoint(
                endpointType="iot:Data-ATS")["endpointAddress"]
        return _discovered["address"]


def _client():
    address = data_endpoint()
    if address is None:
        return aws.client("iot-data")
    with _lock:
        found = aws._clients.get("iot-data@ats")
        if found is None:
            import boto3

            found = boto3.session.Session().client("iot-data", endpoint_url=f"https://{address}")
            aws._clients["iot-data@ats"] = found
        return found


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
        _client().publish(topic=topic, qos=qos, retain=retain, payload=payload)
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

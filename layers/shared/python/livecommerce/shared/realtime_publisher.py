"""The realtime port's AWS adapter: IoT Core's data plane (boto3 `iot-data`
Publish; one call reaches every subscriber of the topic, we never loop over
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

import os
import threading

from livecommerce.shared import aws
from livecommerce.shared.settings import get_settings

_lock = threading.Lock()
_discovered: dict[str, str] = {}


def _explicit_endpoint() -> bool:
    return bool(os.environ.get("AWS_ENDPOINT_URL_IOT_DATA_PLANE") or os.environ.get("AWS_ENDPOINT_URL"))


def data_endpoint() -> str | None:
    """The account's IoT Core ATS data endpoint (host name), looked up once; None when
    the environment names an endpoint (local stack) or on the local stage (moto)."""
    if _explicit_endpoint() or get_settings().is_local:
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
    return aws.client("iot-data", endpoint_url=f"https://{address}")


class IotDataPublisher:
    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None:
        _client().publish(topic=topic, qos=qos, retain=retain, payload=payload)


def get_retained(topic: str) -> bytes | None:
    """The payload of the topic's retained message (iot-data GetRetainedMessage), None when none is
    retained (ResourceNotFoundException). On the local stack the local broker answers the same call."""
    from botocore.exceptions import ClientError  # deferred: botocore only on first use

    try:
        answer = _client().get_retained_message(topic=topic)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return answer.get("payload") or None


def forget_endpoint() -> None:
    with _lock:
        _discovered.clear()

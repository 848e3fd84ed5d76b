"""The local iot-data Publish endpoint (local.mqtt) requires SigV4 as IoT Core does:
unsigned, wrongly signed, stale or tampered publishes are a 403 ForbiddenException
and reach no subscriber; the real publisher (boto3 iot-data through
livecommerce.shared.realtime_publisher) still delivers. Over real sockets."""
from __future__ import annotations

import datetime as dt
import hashlib
import http.client
import json
import os
import queue
import time
from unittest import mock
from urllib.parse import quote, urlsplit

import pytest

from local import sigv4
from local.mqtt import LocalBroker

pytestmark = pytest.mark.integration
TOPIC = "lc/local/rooms/R1/flash_sales"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": ["iot:Connect", "iot:Subscribe", "iot:Receive"], "Resource": "*"}]})


def allow_all(event: dict) -> dict:
    return {"isAuthenticated": True, "principalId": "tester", "policyDocuments": [ALLOW_ALL],
            "disconnectAfterInSeconds": 3600, "refreshAfterInSeconds": 300}


@pytest.fixture(scope="module")
def broker():
    # The credentials and region the broker checks: the ones in the environment at start,
    # as the local stack runs it (tests/conftest.py: testing/testing with a session token).
    found = LocalBroker(authorizer=allow_all)
    found.start()
    yield found
    found.stop()


def env_credentials() -> sigv4.LocalCredentials:
    found = sigv4.LocalCredentials.from_environment()
    assert found is not None
    return found


def post(url: str, topic: str, body: bytes, headers: dict[str, str] | None = None):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("POST", f"/topics/{quote(topic, safe='')}?qos=0", body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def signed_post(url: str, topic: str, body: bytes, *, credentials: sigv4.LocalCredentials | None = None,
                service: str = "iotdata", sent_body: bytes | None = None, extra: dict[str, str] | None = None):
    target = f"{url}/topics/{quote(topic, safe='')}?qos=0"
    headers = sigv4.sign("POST", target, body, service=service, region=os.environ["AWS_REGION"],
                         credentials=credentials or env_credentials(), headers=extra)
    return post(url, topic, body if sent_body is None else sent_body, headers)


def refused(answer, message_part: str) -> None:
    status, headers, body = answer
    assert status == 403, (status, body)
    assert headers["x-amzn-errortype"] == "ForbiddenException"
    assert headers["content-type"].startswith("application/json")
    message = json.loads(body)["message"]
    assert message_part in message, message


def test_an_unsigned_publish_is_forbidden(broker):
    before = broker.stats["publishes"]
    refused(post(broker.urls["publish"], TOPIC, b'{"type":"flash_sale_started","price":1}'),
            "Missing Authentication Token")
    assert broker.stats["publishes"] == before


def test_a_correctly_signed_publish_is_accepted(broker):
    before = broker.stats["publishes"]
    status, _, body = signed_post(broker.urls["publish"], TOPIC, b'{"ok":1}')
    assert status == 200, body
    assert broker.stats["publishes"] == before + 1


def test_a_signature_made_with_another_secret_is_forbidden(broker):
    mine = env_credentials()
    forged = sigv4.LocalCredentials(mine.access_key, "not-the-secret", mine.token)
    refused(signed_post(broker.urls["publish"], TOPIC, b"{}", credentials=forged),
            "signature we calculated does not match")


def test_another_access_key_or_a_missing_session_token_is_forbidden(broker):
    mine = env_credentials()
    refused(signed_post(broker.urls["publish"], TOPIC, b"{}",
                        credentials=sigv4.LocalCredentials("AKIDSOMEONEELSE", mine.secret_key, mine.token)),
            "security token included in the request is invalid")
    refused(signed_post(broker.urls["publish"], TOPIC, b"{}",
                        credentials=sigv4.LocalCredentials(mine.access_key, mine.secret_key, None)),
            "security token included in the request is invalid")


def test_a_signature_for_another_service_is_forbidden(broker):
    refused(signed_post(broker.urls["publish"], TOPIC, b"{}", service="iot"), "scoped to correct service")


@pytest.mark.parametrize("minutes", [-16, 16])
def test_an_x_amz_date_more_than_15_minutes_off_is_forbidden(broker, minutes):
    when = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        answer = signed_post(broker.urls["publish"], TOPIC, b"{}")
    refused(answer, "Signature expired" if minutes < 0 else "Signature not yet current")


def test_a_tampered_body_is_forbidden(broker):
    before = broker.stats["publishes"]
    original = b'{"type":"flash_sale_started","price":19900}'
    forged = b'{"type":"flash_sale_started","price":00001}'
    refused(signed_post(broker.urls["publish"], TOPIC, original, sent_body=forged),
            "signature we calculated does not match")
    # ... also when the signed headers vouch for the original body's hash.
    vouching = {"X-Amz-Content-SHA256": hashlib.sha256(original).hexdigest()}
    refused(signed_post(broker.urls["publish"], TOPIC, original, sent_body=forged, extra=vouching),
            "x-amz-content-sha256")
    assert broker.stats["publishes"] == before


def test_the_real_publisher_still_delivers_to_a_subscriber(broker, monkeypatch):
    paho = pytest.importorskip("paho.mqtt.client")
    from paho.mqtt.enums import CallbackAPIVersion

    from livecommerce.shared import aws
    from livecommerce.shared.realtime_publisher import IotDataPublisher

    monkeypatch.setenv("AWS_ENDPOINT_URL_IOT_DATA_PLANE", broker.urls["publish"])
    aws.reset_clients()
    received: "queue.Queue[tuple[str, bytes]]" = queue.Queue()
    subscribed = queue.Queue()
    ws = urlsplit(broker.urls["ws"])
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="sigv4-test", transport="websockets",
                         protocol=paho.MQTTv311)
    client.ws_set_options(path=ws.path)
    client.username_pw_set("tester", "secret")
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(TOPIC, qos=0)
    client.on_subscribe = lambda c, u, mid, rcs, p: subscribed.put(mid)
    client.on_message = lambda c, u, msg: received.put((msg.topic, msg.payload))
    client.connect(ws.hostname, ws.port, keepalive=30)
    client.loop_start()
    try:
        subscribed.get(timeout=15)
        payload = json.dumps({"type": "flash_sale_started", "sale_id": "S1"}).encode()
        IotDataPublisher().publish(TOPIC, payload)
        deadline = time.monotonic() + 10
        topic, body = received.get(timeout=max(0.1, deadline - time.monotonic()))
        assert (topic, body) == (TOPIC, payload)
        # An unsigned copy of the same publish reaches nobody.
        assert post(broker.urls["publish"], TOPIC, b'{"type":"flash_sale_started","forged":true}')[0] == 403
        with pytest.raises(queue.Empty):
            received.get(timeout=0.5)
    finally:
        client.loop_stop()
        client.disconnect()
        aws.reset_clients()


def test_a_broker_in_its_own_process_verifies_with_the_credentials_it_is_given(monkeypatch):
    """The local stack runs the broker as a separate process: it must check publishes
    against the stack's credentials (local/local there), not accept or refuse them all."""
    credentials = sigv4.LocalCredentials("local", "local")
    broker = LocalBroker(authorizer=allow_all, separate_process=True, credentials=credentials)
    broker.start()
    try:
        url = broker.urls["publish"]
        assert post(url, TOPIC, b"{}")[0] == 403
        assert signed_post(url, TOPIC, b"{}")[0] == 403          # the test environment's keys: not these
        status, _, body = signed_post(url, TOPIC, b"{}", credentials=credentials)
        assert status == 200, body
        assert broker.remote_stats()["publishes"] == 1
    finally:
        broker.stop()

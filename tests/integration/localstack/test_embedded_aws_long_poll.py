"""SQS long polling on the embedded AWS (local.embedded_aws): a ReceiveMessage waiting for
messages holds up no other caller (moto waits inside the request, which the embedded AWS runs
under its one lock), answers as soon as a message reaches its queue, waits out its time when
none comes, and a wait out of range is refused as moto refuses it."""
from __future__ import annotations

import threading
import time

import boto3
import pytest
from botocore.config import Config

pytestmark = pytest.mark.integration


def test_a_long_poll_waits_outside_the_lock_and_answers_when_a_message_comes():
    from local.embedded_aws import EmbeddedAwsProcess

    server = EmbeddedAwsProcess("127.0.0.1", 0)
    server.start()
    try:
        sqs = boto3.client("sqs", endpoint_url=server.url, region_name="ap-northeast-1",
                           aws_access_key_id="local", aws_secret_access_key="local",
                           config=Config(read_timeout=30, retries={"max_attempts": 1}))
        waited_on = sqs.create_queue(QueueName="long-poll-waited-on")["QueueUrl"]
        other = sqs.create_queue(QueueName="long-poll-other")["QueueUrl"]

        began = time.monotonic()
        assert "Messages" not in sqs.receive_message(QueueUrl=waited_on, WaitTimeSeconds=1)
        assert time.monotonic() - began >= 0.9   # an empty long poll waits its time out

        got: dict = {}

        def poll() -> None:
            started = time.monotonic()
            got["answer"] = sqs.receive_message(QueueUrl=waited_on, WaitTimeSeconds=15)
            got["at"] = time.monotonic()
            got["took"] = got["at"] - started

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.3)   # let the poll begin waiting (a fixed pause is fine: it only has to start first)
        # other callers are answered meanwhile, a message to another queue does not end the poll
        began = time.monotonic()
        sqs.send_message(QueueUrl=other, MessageBody="not for the poller")
        assert sqs.list_queues()["QueueUrls"]
        assert time.monotonic() - began < 2.0
        assert "answer" not in got
        sent_at = time.monotonic()
        sqs.send_message(QueueUrl=waited_on, MessageBody="for the poller")
        poller.join(timeout=20)
        assert [m["Body"] for m in got["answer"]["Messages"]] == ["for the poller"]
        assert got["at"] - sent_at < 1.0   # woken by the message, not by the 1 s re-check or the end
        assert got["took"] < 10

        with pytest.raises(sqs.exceptions.ClientError) as refused:
            sqs.receive_message(QueueUrl=waited_on, WaitTimeSeconds=21)
        assert "InvalidParameterValue" in str(refused.value)
    finally:
        server.stop()

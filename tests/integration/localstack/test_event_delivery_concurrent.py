"""The local stack delivers a subscription's events as EventBridge invokes Lambda: one asynchronous
invocation per event, side by side (local.event_delivery.drain_queue_concurrently). The live-figures
ticker runs 55 s on RoomStarted; delivered one after another, the OrderPaid behind it waited for it
and the host's live figures missed the order (the analytics e2e). SQS on moto, the function a fake."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from moto import mock_aws

from local import event_delivery
from tests.polling import poll

pytestmark = pytest.mark.integration


def test_a_long_invocation_holds_up_no_event_behind_it_and_a_failed_one_comes_back(monkeypatch):
    seen: list[str] = []
    ticker_may_end = threading.Event()
    failures = {"OrderRefunded": 1}
    lock = threading.Lock()

    def invoke(function: str, event: dict) -> dict:
        assert function == "live_stats"
        kind = event["detail-type"]
        with lock:
            seen.append(kind)
            fail = failures.get(kind, 0) > 0
            if fail:
                failures[kind] -= 1
        if kind == "RoomStarted":                 # the ticker: runs until the order has been counted
            assert ticker_may_end.wait(10), "the OrderPaid behind the ticker was never delivered"
        if kind == "OrderPaid":
            ticker_may_end.set()
        if fail:
            raise RuntimeError("a failed invocation")
        return {}

    monkeypatch.setattr(event_delivery, "invoke", invoke)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="ap-northeast-1")
        url = sqs.create_queue(QueueName="live-figures", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
        for kind in ("RoomStarted", "OrderPaid", "OrderRefunded"):
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"detail-type": kind, "detail": {}}))
        slots = threading.BoundedSemaphore(4)
        with ThreadPoolExecutor(4) as executor:
            assert event_delivery.drain_queue_concurrently(sqs, url, "live_stats", executor, slots) == 3
            # the ticker is still running when the order is delivered; both end
            assert poll(lambda: ticker_may_end.is_set(), timeout=10)
        assert sorted(seen) == ["OrderPaid", "OrderRefunded", "RoomStarted"]
        assert all(slots.acquire(blocking=False) for _ in range(4))        # every slot given back
        for _ in range(4):
            slots.release()
        # the failed one stays queued (invisible for the function's timeout + 30 s), the others are gone
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
            "0", "1")

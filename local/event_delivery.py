"""Delivers domain events to their consumers on the local stack and in tests.

The bus's rules (same patterns as on AWS) put matching events on one queue per
subscription; this drains those queues and calls the consumer function's real
handler with the EventBridge event, as the Lambda service would.
"""
from __future__ import annotations

import json

from livecommerce.manifest import SUBSCRIPTIONS
from local.lambda_runtime import invoke
from local.resources import LocalNames, delivery_queue_name


def drain(session, names: LocalNames, *, wait_seconds: int = 0) -> int:
    """Deliver every waiting event once; returns how many were handled."""
    sqs = session.client("sqs")
    handled = 0
    for sub in SUBSCRIPTIONS:
        url = sqs.get_queue_url(QueueName=delivery_queue_name(names, sub.name))["QueueUrl"]
        handled += drain_queue(sqs, url, sub.function, wait_seconds=wait_seconds)
    return handled


def drain_queue(sqs, url: str, function: str, *, wait_seconds: int = 0) -> int:
    """Deliver what waits on one subscription's queue to its function; how many were handled."""
    handled = 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
        messages = got.get("Messages", [])
        if not messages:
            return handled
        for message in messages:
            event = json.loads(message["Body"])
            invoke(function, event)  # an exception leaves the message for redelivery
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
        wait_seconds = 0

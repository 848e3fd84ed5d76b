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


def drain_to_store(sqs, url: str, put_record_batch, *, wait_seconds: int = 0) -> int:
    """Every domain event waiting on the store rule's queue, whole, to the analytics events stream
    (put_record_batch: the Firehose stand-in's, table name and records), up to 10 per put; how
    many. A put that raises leaves its messages queued for a retry."""
    handled = 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
        messages = got.get("Messages", [])
        if not messages:
            return handled
        put_record_batch("events", [{"Data": message["Body"] + "\n"} for message in messages])
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
        handled += len(messages)
        wait_seconds = 0

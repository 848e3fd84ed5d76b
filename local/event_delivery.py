"""Delivers domain events to their consumers on the local stack and in tests.

The bus's rules (same patterns as on AWS) put matching events on one queue per
subscription; this drains those queues and calls the consumer function's real
handler with the EventBridge event, as the Lambda service would.
"""
from __future__ import annotations

import json
import logging

from livecommerce.manifest import BY_NAME, SUBSCRIPTIONS
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


def drain_queue_concurrently(sqs, url: str, function: str, executor, slots, *, wait_seconds: int = 0,
                             stop=None) -> int:
    """As EventBridge hands each event to Lambda as its own asynchronous invocation: up to as many
    events of one subscription run at once as `slots` (a threading.BoundedSemaphore) allows, so a
    long invocation (the live-figures ticker runs 55 s on RoomStarted) holds up no event behind it
    (an OrderPaid waited for it, and the host's figures missed the order for up to a minute).
    A message stays invisible for its function's timeout (and 30 s more) while it runs, and is
    deleted once its invocation returned; one that raises is delivered again. How many were
    handed out. Once `stop` (a threading.Event) is set, no more messages are taken (what is left waits
    in the queue, as it does while Lambda is throttled)."""
    visibility = BY_NAME[function].timeout_seconds + 30
    handled = 0
    while True:
        slots.acquire()
        if stop is not None and stop.is_set():
            slots.release()
            return handled
        free = 1
        while free < 10 and slots.acquire(blocking=False):
            free += 1
        try:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=free, WaitTimeSeconds=wait_seconds,
                                      VisibilityTimeout=visibility)
        except BaseException:
            for _ in range(free):
                slots.release()
            raise
        messages = got.get("Messages", [])
        for _ in range(free - len(messages)):
            slots.release()
        if not messages:
            return handled
        for message in messages:
            executor.submit(_deliver_one, sqs, url, function, message, slots)
            handled += 1
        wait_seconds = 0


def _deliver_one(sqs, url: str, function: str, message: dict, slots) -> None:
    try:
        invoke(function, json.loads(message["Body"]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    except Exception:  # noqa: BLE001 - the message stays queued and comes back after its visibility timeout
        logging.getLogger("local.events").exception("event delivery to %s failed; will retry", function)
    finally:
        slots.release()


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

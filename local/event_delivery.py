"""Delivers domain events to their consumers on the local stack and in tests.

The bus's rules (same patterns as on AWS) put matching events on one queue per
subscription; this drains those queues and calls the consumer function's real
handler with the EventBridge event, as the Lambda service would.
"""
from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from livecommerce.shared.subscriptions import SUBSCRIPTIONS
from local.lambda_context import FakeContext
from local.resources import LocalNames, delivery_queue_name

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
_modules: dict[str, ModuleType] = {}
_modules_lock = threading.Lock()


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/handler.py once, like a warm Lambda container."""
    with _modules_lock:
        module = _modules.get(name)
        if module is None:
            path = FUNCTIONS_DIR / name / "handler.py"
            spec = importlib.util.spec_from_file_location(f"lambda_{name}_handler", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _modules[name] = module
        return module


def invoke(name: str, event: dict[str, Any]) -> Any:
    return load_function(name).handler(event, FakeContext(name))


def drain(session, names: LocalNames, *, wait_seconds: int = 0) -> int:
    """Deliver every waiting event once; returns how many were handled."""
    sqs = session.client("sqs")
    handled = 0
    for sub in SUBSCRIPTIONS:
        url = sqs.get_queue_url(QueueName=delivery_queue_name(names, sub.name))["QueueUrl"]
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
            messages = got.get("Messages", [])
            if not messages:
                break
            for message in messages:
                event = json.loads(message["Body"])
                invoke(sub.function, event)  # an exception leaves the message for redelivery
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                handled += 1
            wait_seconds = 0
    return handled

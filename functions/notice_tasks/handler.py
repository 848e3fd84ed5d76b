"""The post-live and preview notice state machines' Lambda tasks (statemachines/*_notice.asl.json).

A retryable provider failure leaves as the error `NoticeRetryable` (the machines' Retry names it);
every other outcome is a result."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from livecommerce import notifications

logger = Logger(service="notice_tasks")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    notifications.require_template_ids()   # a deployed stage without its template ids sends nothing
    from livecommerce.notifications.notices import run_task  # deferred: pynamodb pulls in botocore

    logger.append_keys(task=event.get("task"), room_id=event.get("room_id"), kind=event.get("kind"))
    return run_task(event)

"""EventBridge consumer: a room scheduled, moved, started or ended moves its reminder schedules."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(service="reminder_schedules")


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.notifications.schedules import on_room_event  # deferred: boto3 on first use

    return on_room_event(event)

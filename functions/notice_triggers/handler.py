"""EventBridge consumer: a room ended, its replay ready or a room announced schedules the notice runs;
an order shipped or delivered sends the buyer's shipping notice."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from livecommerce import notifications

logger = Logger(service="notice_triggers")


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    notifications.require_template_ids()   # a deployed stage without its template ids sends nothing
    from livecommerce.notifications.notices import on_event  # deferred: boto3 / pynamodb on first use

    return on_event(event)

"""EventBridge consumer for engagement: a paid order makes its buyer eligible for the room's buyers' lotteries."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.engagement.consumers import on_domain_event  # deferred: pynamodb pulls in botocore

    result = on_domain_event(event)
    metrics.add_metric(name="EngagementEventsHandled", unit=MetricUnit.Count, value=1)
    return result

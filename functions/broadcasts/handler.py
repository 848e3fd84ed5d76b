"""EventBridge consumer: room lifecycle and commerce events -> the room's events
topic on IoT Core (one publish reaches every viewer), product and flash-sale
cards -> IVS timed metadata."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.interaction.broadcasts import handle  # deferred: pynamodb pulls in botocore

    outcome = handle(event)
    metrics.add_metric(name=f"Broadcast_{outcome}", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome}

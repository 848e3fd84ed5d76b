"""EventBridge consumer: RoomEnded (delete the stage), OrderPaid (PK sales), IVS stage and
composition events (livecommerce.media.consumers)."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.media.consumers import handle  # deferred: pynamodb pulls in botocore

    outcome = handle(event)
    metrics.add_metric(name=f"Costream_{outcome}", unit=MetricUnit.Count, value=1)
    return {"outcome": outcome}

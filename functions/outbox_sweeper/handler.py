"""Scheduled every minute: publishes domain events left in an outbox by a
crash between a committed change and its publish."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.rooms import repository as rooms  # deferred: pynamodb pulls in botocore

    published = rooms.sweep_outbox()
    metrics.add_metric(name="OutboxEventsSwept", unit=MetricUnit.Count, value=published)
    if published:
        logger.warning("outbox sweeper published stranded events", extra={"published": published})
    return {"published": published}

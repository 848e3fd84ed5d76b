"""EventBridge consumer: keeps every domain event in the event log table."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import NAMESPACE

logger = Logger(service="domain_events")
metrics = Metrics(namespace=NAMESPACE, service="domain_events")


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.analytics import product_room_index  # deferred: pynamodb pulls in botocore
    from livecommerce.analytics.event_log import record  # deferred: pynamodb pulls in botocore

    stored = record(event)
    metrics.add_metric(name="DomainEventsStored" if stored else "DomainEventsDuplicate",
                       unit=MetricUnit.Count, value=1)
    # a repeat delivery indexes again (a put of the same items): a failure after `record` is retried whole
    if product_room_index.record(event):
        metrics.add_metric(name="ProductRoomsIndexed", unit=MetricUnit.Count, value=1)
    return {"stored": stored}

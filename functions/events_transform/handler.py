"""Firehose data transformation of the analytics `events` stream: each record (a whole
EventBridge envelope, from the domain bus rule or the realtime batcher) becomes the store's row
with its partition keys (livecommerce.analytics.event_rows.firehose_transform). Firehose calls it
with a batch of up to 1 MB, not per event."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.analytics.event_rows import firehose_transform
from livecommerce.shared.observability import NAMESPACE

logger = Logger(service="events_transform")
metrics = Metrics(namespace=NAMESPACE, service="events_transform")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = firehose_transform(event)
    failed = sum(1 for r in result["records"] if r["result"] != "Ok")
    metrics.add_metric(name="StoreRows", unit=MetricUnit.Count, value=len(result["records"]) - failed)
    if failed:
        metrics.add_metric(name="StoreRowsFailed", unit=MetricUnit.Count, value=failed)
        logger.warning("records refused by the events transformation", extra={"failed": failed})
    return result

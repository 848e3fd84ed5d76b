"""DynamoDB stream consumer of the interaction table: new danmaku -> sampled
batches on the room's danmaku topic (at most 5 a second per room); like
counter changes -> the room's exact total at most once a second; per-user likes and
danmaku -> the analytics store (one Firehose PutRecordBatch per batch)."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.interaction.batcher import handle  # deferred: pynamodb pulls in botocore

    result = handle(event)
    metrics.add_metric(name="DanmakuBatches", unit=MetricUnit.Count, value=result["batches"])
    metrics.add_metric(name="LikeBroadcasts", unit=MetricUnit.Count, value=result["like_broadcasts"])
    metrics.add_metric(name="StoreFacts", unit=MetricUnit.Count, value=result["store_facts"])
    return result

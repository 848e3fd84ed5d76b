"""EventBridge consumer: on RoomEnded, the post-live report is computed once and stored."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.analytics.post_live import on_room_ended  # deferred: duckdb/boto3/openpyxl (cold start)

    result = on_room_ended(event["detail"])
    metrics.add_metric(name="PostLiveReportSeconds", unit=MetricUnit.Seconds, value=result["seconds"])
    logger.info("post-live report stored", extra=result)
    return result

"""Scheduled every minute (EventBridge rule): the commerce clock.

- expires unpaid orders past their payment window and gives their stock and
  coupons back (idempotent: an order is closed once, whoever gets there first);
- runs flash-sale steps (countdown, start, end) and coupon drops whose timer
  was lost, and asks for timers (commerce_timers) for those of the next minute,
  so they go out at the second;
- publishes commerce domain events stranded in an outbox by a crash.

Everything it acts on is found in DynamoDB indexes, so a crash (of this
function or of a request) loses nothing: the next run picks it up.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.orders.clock import tick  # deferred: pynamodb pulls in botocore

    result = tick()
    for name, value in result.items():
        metrics.add_metric(name=f"Commerce{name.title().replace('_', '')}", unit=MetricUnit.Count, value=value)
    if result.get("outbox_swept"):
        logger.warning("commerce sweeper published stranded events", extra=result)
    return result

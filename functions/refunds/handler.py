"""EventBridge consumer and every-minute schedule for refunds.

- AfterSaleRefundApproved / OrderRefundRequired (orders): refund once at WeChat Pay / Alipay;
- the schedule ("Scheduled Event"): refunds whose result is late are asked about at the provider
  (and submitted again under the same id if the call was lost), and payments events stranded
  in the outbox are published.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce import payments
from livecommerce.shared.observability import logger, metrics


def tick() -> dict[str, int]:
    result: dict[str, int] = {}
    for name, step in (("refunds_ended", payments.poll_open_refunds), ("outbox_swept", payments.sweep_outbox)):
        try:
            result[name] = int(step())
        except Exception:  # noqa: BLE001 - logged; the next minute retries
            logger.exception("refund schedule step failed", extra={"step": name})
            result[name] = 0
    return result


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("detail-type") == "Scheduled Event":
        result = tick()
        for name, value in result.items():
            metrics.add_metric(name=f"Refunds{name.title().replace('_', '')}", unit=MetricUnit.Count, value=value)
        return result
    result = payments.on_domain_event(event)
    metrics.add_metric(name="RefundCausesHandled", unit=MetricUnit.Count, value=1)
    return result

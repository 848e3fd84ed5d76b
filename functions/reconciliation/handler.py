"""The daily reconciliation (EventBridge schedule, 10:30 and 14:30 Beijing time).

- "Scheduled Event": yesterday's (Beijing) bills against our payments and refunds, unless that day's
  report is complete already (the second slot only comes back for a bill that was not ready);
- {"date": "yyyy-mm-dd"}: that day now (an operator's direct invocation; the API has
  POST /v1/reconciliation/{date}/runs);
- {"action": "index_settlements"}: backfill the settlements' day index for records written before it.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce import orders, payments
from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("action") == "index_settlements":
        indexed = orders.index_settlements()
        metrics.add_metric(name="SettlementsIndexed", unit=MetricUnit.Count, value=indexed)
        return {"indexed": indexed}
    if event.get("date"):
        report = payments.reconcile(str(event["date"]), trigger="operator")
    else:
        report = payments.scheduled_reconciliation()
        if report is None:
            return {"skipped": "complete"}
    for provider in report.providers:
        metrics.add_metric(name="ReconciliationDiscrepancies", unit=MetricUnit.Count, value=provider.discrepancies)
        if provider.outcome not in ("reconciled", "discrepancies"):
            metrics.add_metric(name="ReconciliationBillsMissing", unit=MetricUnit.Count, value=1)
    return {"date": report.date, "outcomes": {p.channel: p.outcome for p in report.providers},
            "discrepancies": sum(p.discrepancies for p in report.providers)}

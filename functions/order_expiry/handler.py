"""Scheduled every minute (EventBridge rule): the commerce clock.

- expires unpaid orders past their payment window and gives their stock and
  coupons back (idempotent: an order is closed once, whoever gets there first);
- runs flash-sale steps (countdown, start, end) and coupon drops whose timer
  was lost, and asks for timers (commerce_timers) for those of the next minute,
  so they go out at the second;
- publishes commerce domain events stranded in an outbox by a crash.

Everything it acts on is found in DynamoDB indexes, so a crash (of this
function or of a request) loses nothing: the next run picks it up. Each
context's jobs are its own (orders.jobs, catalog's and marketing's faces);
this handler only composes them.
"""
from __future__ import annotations

from typing import Any, Callable

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce import catalog, marketing, payments
from livecommerce.shared.observability import logger, metrics


def _jobs(outbox_older_than_seconds: int) -> dict[str, Callable[[], int]]:
    from livecommerce.orders import jobs  # deferred: pynamodb/botocore (cold start budget)

    older = {"older_than_seconds": outbox_older_than_seconds}
    return {
        # Before an order expires, payments asks the providers whether it was paid and closes it there.
        "orders_expired": lambda: jobs.expire_overdue_orders(before_close=payments.settle_before_expiry),
        "orders_received": jobs.confirm_due_receipts,
        "sale_steps": jobs.run_due_flash_sale_steps,
        "drops_published": marketing.publish_due_drops,
        "outbox_swept": lambda: (jobs.sweep_outbox(**older) + catalog.sweep_outbox(**older)
                                 + marketing.sweep_outbox(**older)),
    }


def tick(*, outbox_older_than_seconds: int = 30) -> dict[str, int]:
    """One run of the every-minute schedule. Each step is idempotent; one failing does not stop the rest."""
    result: dict[str, int] = {}
    for name, step in _jobs(outbox_older_than_seconds).items():
        try:
            result[name] = int(step())
        except Exception:  # noqa: BLE001 - logged; the next minute retries
            logger.exception("commerce schedule step failed", extra={"step": name})
            result[name] = 0
            result["failed_steps"] = result.get("failed_steps", 0) + 1
    return result


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = tick()
    for name, value in result.items():
        metrics.add_metric(name=f"Commerce{name.title().replace('_', '')}", unit=MetricUnit.Count, value=value)
    if result.get("outbox_swept"):
        logger.warning("commerce sweeper published stranded events", extra=result)
    return result

"""Commerce timers (shared.timers): invoked asynchronously with {"timer": {"kind",
"id", "at_ms"}} by whoever learns that a flash sale's countdown, start or end,
or a coupon drop, is less than a minute away. Sleeps until that moment and runs
the one step (a conditional write with its event, once), then asks for the
next step's timer if that one is near too. Malformed or far-off timers are
ignored. The minute tick (order_expiry) runs any step whose timer was lost.
The steps are the contexts' own: orders' flash-sale step, marketing's drop.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce import marketing
from livecommerce.shared import timers
from livecommerce.shared.observability import logger, metrics


def on_timer(raw: object) -> dict[str, Any]:
    """A timer invocation's payload: sleep until its moment and run the step."""
    from livecommerce.orders import jobs  # deferred: pynamodb/botocore (cold start budget)

    return timers.run(raw, {"flash_sale": jobs.run_flash_sale_step, "coupon_drop": marketing.run_drop})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = on_timer(event.get("timer"))
    metrics.add_metric(name="CommerceTimerSteps", unit=MetricUnit.Count, value=1 if outcome.get("ran") else 0)
    return outcome

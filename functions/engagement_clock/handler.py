"""The engagement clock: invoked every minute (EventBridge rule) and, at the second,
asynchronously with {"timer": {"kind", "id", "at_ms"}} (shared.timers) by whoever
learns that a lottery's countdown, close, draw or claim deadline, or a poll's or quiz's
close, is near.

Every step is a conditional write that runs once, whoever gets there first: a
timer asked for twice, or a tick that finds a step overdue, does no harm.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce import engagement
from livecommerce.shared import timers
from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and "timer" in event:
        outcome = timers.run(event.get("timer"), {"lottery": engagement.run_lottery_step,
                                                  "poll": engagement.run_poll_step})   # polls and quizzes
        metrics.add_metric(name="EngagementTimerSteps", unit=MetricUnit.Count, value=1 if outcome.get("ran") else 0)
        return outcome
    result = engagement.tick()
    for name, value in result.items():
        metrics.add_metric(name=f"Engagement{name.title().replace('_', '')}", unit=MetricUnit.Count, value=value)
    return result

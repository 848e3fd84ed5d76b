"""Scheduled every minute: publishes domain events left in an outbox by a
crash between a committed change and its publish (rooms and identity)."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce import identity, rooms
from livecommerce.shared.observability import logger, metrics

# Each context's public face sweeps its own table's outbox.
SWEEPS = {"rooms": rooms.sweep_outbox, "identity": identity.sweep_outbox}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    swept: dict[str, int] = {}
    failure: Exception | None = None
    for name, sweep in SWEEPS.items():
        try:
            swept[name] = sweep()
        except Exception as exc:  # noqa: BLE001 - the other table is still swept; the tick fails below
            logger.exception("outbox sweep failed", extra={"context": name})
            failure = failure or exc
    published = sum(swept.values())
    metrics.add_metric(name="OutboxEventsSwept", unit=MetricUnit.Count, value=published)
    if published:
        logger.warning("outbox sweeper published stranded events", extra={"published": published, **swept})
    if failure is not None:
        raise failure
    return {"published": published}

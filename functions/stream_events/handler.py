"""EventBridge consumer: IVS stream and recording state changes drive the room lifecycle.

Events may come late, twice or out of order; the rooms service derives the
status from recorded facts, so any order gives the same room state. It also
invokes itself once ({"planned_switch_check": {"room_id", "at_ms"}}) when a stream
end is held by a planned switch, to derive the status again when the window closes.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(correlation_id_path="id", clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.rooms.stream_events import handle  # deferred: pynamodb pulls in botocore

    status = handle(event)
    metrics.add_metric(name="StreamEventsApplied" if status else "StreamEventsIgnored", unit=MetricUnit.Count, value=1)
    return {"status": status}

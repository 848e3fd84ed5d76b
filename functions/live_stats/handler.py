"""Live figures: IoT Core lifecycle events (the IoT rule), RoomStarted/StreamResumed (start the
ticker), OrderPaid (count it), and the ticker's own hand-over invocations."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.analytics import live  # deferred: pynamodb pulls in botocore

    if "eventType" in event and "clientId" in event:           # IoT Core lifecycle event (IoT rule: SELECT *)
        result = live.on_lifecycle(event)
        metrics.add_metric(name="LivePresenceApplied", unit=MetricUnit.Count, value=result["applied"])
        return result
    if "ticker_id" in event:                                   # the ticker's hand-over
        return live.run_ticker(event["room_id"], event["host_id"], event["ticker_id"])
    detail_type, detail = event.get("detail-type"), event.get("detail") or {}
    if detail_type == "OrderPaid":
        return {"counted": live.on_order_paid(detail)}
    if detail_type in ("RoomStarted", "StreamResumed"):
        return live.run_ticker(detail["room_id"], detail["host_id"])
    logger.warning("not a live-figures event", extra={"keys": sorted(event)[:10]})
    return {"ignored": True}

"""IoT Core custom authorizer for the real-time room channel: verifies our login
token and returns the IoT policy for one room (livecommerce.interaction.authorizer).
Anything wrong is `isAuthenticated: false`, never an exception."""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared.observability import NAMESPACE

logger = Logger(service="realtime_authorizer")
metrics = Metrics(namespace=NAMESPACE, service="realtime_authorizer")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.interaction.authorizer import authorize, deny  # deferred: pynamodb pulls in botocore

    try:
        result = authorize(event or {}, function_arn=getattr(context, "invoked_function_arn", None))
    except Exception:  # a store outage refuses the connection; the client retries
        logger.exception("realtime authorizer failed")
        result = deny("internal_error")
    metrics.add_metric(name="RealtimeConnectAllowed" if result.get("isAuthenticated") else "RealtimeConnectRefused",
                       unit=MetricUnit.Count, value=1)
    result.pop("reason", None)
    return result

"""API Gateway REQUEST authorizer of the beacon route (POST /v1/rooms/{room_id}/events).

The route has no Lambda behind it (a Firehose service integration); this runs once per login
token, playback-token header and TTL (livecommerce.analytics.beacon_access says what it decides
and why the cache cannot leak an answer to another room). A bad login token is a 401, never a 500.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.analytics import beacon_access
from livecommerce.analytics.beacons import PLAYBACK_TOKEN_HEADER
from livecommerce.shared.bearer import bearer_token
from livecommerce.shared.observability import NAMESPACE

logger = Logger(service="beacon_authorizer")
metrics = Metrics(namespace=NAMESPACE, service="beacon_authorizer")


def _header(headers: dict[str, str] | None, name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in (headers or {}).items() if k.lower() == lowered), None)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = event.get("headers") or {}
    room_id = (event.get("pathParameters") or {}).get("room_id") or ""
    try:
        decision = beacon_access.decide(bearer=bearer_token(headers),
                                        playback_header=_header(headers, PLAYBACK_TOKEN_HEADER), room_id=room_id)
    except beacon_access.Unauthorized as exc:
        metrics.add_metric(name="BeaconTokenRejected", unit=MetricUnit.Count, value=1)
        logger.info("token rejected", extra={"reason": exc.reason})
        raise Exception("Unauthorized") from None  # API Gateway's contract for a 401
    metrics.add_metric(name="BeaconViewerAuthorized", unit=MetricUnit.Count, value=1)
    return decision.answer(event.get("methodArn", ""))

"""A PK window's clock ({"pk_id"}: the score at most once a second, the result at the end),
and every minute the fallback that finishes PKs whose clock died and sweeps the media outbox."""
from __future__ import annotations

from typing import Any

from livecommerce.shared.observability import logger, metrics


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from livecommerce.media.consumers import clock  # deferred: pynamodb pulls in botocore

    return clock(event)

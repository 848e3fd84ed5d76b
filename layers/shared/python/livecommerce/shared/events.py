"""Domain events: published to the one EventBridge bus, never handler-to-handler."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from livecommerce.shared import aws
from livecommerce.shared.settings import get_settings
from livecommerce.shared.spec import EVENT_SOURCE


class EventPublishError(RuntimeError):
    pass


def publish(detail_type: str, detail: dict[str, Any], *, resources: list[str] | None = None) -> None:
    """Put one domain event on the bus; raises if EventBridge did not take it."""
    entry = {
        "Source": EVENT_SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps({**detail, "occurred_at": datetime.now(timezone.utc).isoformat()}),
        "EventBusName": get_settings().event_bus_name,
    }
    if resources:
        entry["Resources"] = resources
    result = aws.client("events").put_events(Entries=[entry])
    if result.get("FailedEntryCount"):
        raise EventPublishError(str(result["Entries"]))

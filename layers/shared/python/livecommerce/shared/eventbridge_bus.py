"""The event bus port's AWS adapter: EventBridge PutEvents on the domain bus."""
from __future__ import annotations

import json
from typing import Any

from livecommerce.shared import aws
from livecommerce.shared.settings import get_settings
from livecommerce.shared.spec import EVENT_SOURCE


class EventPublishError(RuntimeError):
    pass


class EventBridgeBus:
    """The event bus port's AWS adapter."""

    def put(self, detail_type: str, detail: dict[str, Any], *, resources: list[str] | None = None) -> None:
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail),
            "EventBusName": get_settings().event_bus_name,
        }
        if resources:
            entry["Resources"] = resources
        result = aws.client("events").put_events(Entries=[entry])
        if result.get("FailedEntryCount"):
            raise EventPublishError(str(result["Entries"]))

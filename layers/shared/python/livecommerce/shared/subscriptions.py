"""Which consumer functions receive which domain events from the bus.

One source for the CDK EventBridge rules and the local stack's in-process
event delivery, so both route the same events to the same handlers.
"""
from __future__ import annotations

from dataclasses import dataclass

EVENT_SOURCE = "livecommerce"


@dataclass(frozen=True)
class Subscription:
    name: str
    function: str                       # folder under functions/
    detail_types: tuple[str, ...] = ()  # empty: every detail type from our source

    def pattern(self) -> dict:
        pattern: dict = {"source": [EVENT_SOURCE]}
        if self.detail_types:
            pattern["detail-type"] = list(self.detail_types)
        return pattern

    def matches(self, source: str, detail_type: str) -> bool:
        return source == EVENT_SOURCE and (not self.detail_types or detail_type in self.detail_types)


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    # Every domain event is kept in the event log for analytics and audits.
    Subscription("EventLog", "domain_events"),
)

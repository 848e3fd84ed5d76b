"""Which consumer functions receive which domain events from the bus.

One source for the CDK EventBridge rules and the local stack's in-process
event delivery, so both route the same events to the same handlers.
"""
from __future__ import annotations

from dataclasses import dataclass

EVENT_SOURCE = "livecommerce"
IVS_SOURCE = "aws.ivs"


@dataclass(frozen=True)
class Subscription:
    name: str
    function: str                       # folder under functions/
    detail_types: tuple[str, ...] = ()  # empty: every detail type from the source
    source: str = EVENT_SOURCE
    # "domain": our bus. "default": the account's default bus, where AWS
    # services (IVS stream and recording state changes) put their events.
    bus: str = "domain"

    def pattern(self) -> dict:
        pattern: dict = {"source": [self.source]}
        if self.detail_types:
            pattern["detail-type"] = list(self.detail_types)
        return pattern

    def matches(self, source: str, detail_type: str) -> bool:
        return source == self.source and (not self.detail_types or detail_type in self.detail_types)


SUBSCRIPTIONS: tuple[Subscription, ...] = (
    # Every domain event is kept in the event log for analytics and audits.
    Subscription("EventLog", "domain_events"),
    # IVS stream and recording state changes drive the room lifecycle.
    Subscription("StreamState", "stream_events", source=IVS_SOURCE, bus="default",
                 detail_types=("IVS Stream State Change", "IVS Recording State Change")),
)


def _context_subscriptions() -> tuple[Subscription, ...]:
    from livecommerce import wiring

    return tuple(s for module in wiring.context_modules() for s in getattr(module, "SUBSCRIPTIONS", ()))


SUBSCRIPTIONS = SUBSCRIPTIONS + _context_subscriptions()

"""Domain events: typed, published to the one EventBridge bus, never handler-to-handler.

Every event type is a pydantic model owned by the context that emits it (its
`events` module) and listed in that context's spec (`emits`). Producers build
the model; it goes into the outbox as its JSON detail; consumers parse the
detail back into the producer's model (`Model.parse(detail)`), so a consumer
that reads a field the event does not have fails in the tests, not in
production. docs/events.md is the generated catalogue (scripts/write_event_catalogue.py).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from livecommerce.shared import ports
from livecommerce.shared.eventbridge_bus import EventPublishError  # noqa: F401 (re-exported)


class DomainEvent(BaseModel):
    """Base of every domain event. Subclasses set `detail_type` and their fields.

    `event_id` (set by the outbox) and `occurred_at` (when the outbox took the event, i.e. the
    change was committed; else when published) ride
    in every detail; extra fields are ignored when parsing, so a producer may
    add a field before its consumers read it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    detail_type: ClassVar[str]

    event_id: str | None = None
    occurred_at: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "detail_type" not in cls.__dict__:
            cls.detail_type = cls.__name__

    def detail(self) -> dict[str, Any]:
        """The JSON detail: what the producer set (fields left at their default are left out,
        as the untyped producers did), without the envelope fields the outbox and bus add."""
        return self.model_dump(mode="json", exclude_unset=True, exclude={"event_id", "occurred_at"})

    @classmethod
    def parse(cls, detail: dict[str, Any]) -> "DomainEvent":
        return cls.model_validate(detail)


def publish(detail_type: str, detail: dict[str, Any], *, resources: list[str] | None = None) -> None:
    """Put one domain event on the bus; raises if the bus did not take it. `occurred_at` is now,
    unless the detail has it (the outbox's events carry their commit time)."""
    stamped = {**detail, "occurred_at": detail.get("occurred_at") or datetime.now(timezone.utc).isoformat()}
    ports.get().bus.put(detail_type, stamped, resources=resources)


def publish_many(entries: list[tuple[str, dict[str, Any]]]) -> list[bool]:
    """Put several domain events on the bus in as few calls as the bus allows (EventBridge: one
    PutEvents per 10); returns, per entry, whether the bus took it (a partial failure takes some).
    Raises if the bus could not be reached. `occurred_at` as in `publish`."""
    now = datetime.now(timezone.utc).isoformat()
    stamped = [(detail_type, {**detail, "occurred_at": detail.get("occurred_at") or now})
               for detail_type, detail in entries]
    bus = ports.get().bus
    put_many = getattr(bus, "put_many", None)
    if put_many is not None:
        return list(put_many(stamped))
    taken: list[bool] = []
    for detail_type, detail in stamped:   # a bus without batches (a test's own fake): one by one,
        try:                              # and the first refusal keeps the rest, in order
            bus.put(detail_type, detail)
        except Exception:  # noqa: BLE001 - reported as not taken
            break
        taken.append(True)
    return taken + [False] * (len(stamped) - len(taken))


def publish_event(event: DomainEvent, *, resources: list[str] | None = None) -> None:
    publish(event.detail_type, event.detail(), resources=resources)

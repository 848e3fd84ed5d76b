"""In-memory fakes of the platform ports (livecommerce.shared.ports), for unit tests
of services: `with ports.use(bus=bus, clock=clock): ...`."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any


class InMemoryBus:
    """Keeps what was put on the bus: [(detail type, detail)]."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def put(self, detail_type: str, detail: dict[str, Any], *, resources: list[str] | None = None) -> None:
        self.events.append((detail_type, json.loads(json.dumps(detail))))

    def put_many(self, events: list[tuple[str, dict[str, Any]]]) -> list[bool]:
        for detail_type, detail in events:
            self.put(detail_type, detail)
        return [True] * len(events)

    def of(self, detail_type: str) -> list[dict[str, Any]]:
        return [detail for kind, detail in self.events if kind == detail_type]


class RecordingPublisher:
    """Keeps what was published to realtime topics: [(topic, message)]."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Any]] = []

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None:
        self.messages.append((topic, json.loads(payload)))


class FakeClock:
    """A clock that moves only when told to (or when slept on)."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)

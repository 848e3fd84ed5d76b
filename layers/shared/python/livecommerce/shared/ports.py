"""The ports a service reaches the outside world through, from one place.

A service asks `ports.get()` for the event bus, the realtime publisher and the
clock instead of building clients itself, so its rules can be tested with
in-memory fakes (`ports.use(bus=..., clock=...)` in a test; tests/fakes.py has
them) while moto and the local stand-ins keep testing the real adapters.
Outbound providers a context owns (WeChat, Alipay, WeChat Pay, IVS) are
registered by name by that context and fetched the same way.

The AWS adapters are created on first use, once per container.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Protocol


class EventBus(Protocol):
    def put(self, detail_type: str, detail: dict[str, Any], *, resources: list[str] | None = None) -> None:
        """Put one domain event on the bus; raise if it was not taken."""

    # Optional: put_many(events: list[(detail type, detail)]) -> list[bool], several events in as few
    # calls as the bus allows, whether each was taken (events.publish_many uses `put` without it).


class RealtimePublisher(Protocol):
    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> None:
        """Publish one message to every subscriber of a topic; raise if it was not taken."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, UTC."""

    def sleep(self, seconds: float) -> None:
        """Wait; a fake clock moves its time instead."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


def _eventbridge() -> EventBus:
    from livecommerce.shared.eventbridge_bus import EventBridgeBus  # deferred: cold start, boto3 on first use

    return EventBridgeBus()


def _iot_data() -> RealtimePublisher:
    from livecommerce.shared.realtime_publisher import IotDataPublisher  # deferred: cold start, boto3 on first use

    return IotDataPublisher()


@dataclass(frozen=True)
class Ports:
    bus: EventBus | None = None
    realtime: RealtimePublisher | None = None
    clock: Clock = field(default_factory=SystemClock)
    providers: dict[str, Any] = field(default_factory=dict)

    def provider(self, name: str) -> Any:
        try:
            return self.providers[name]
        except KeyError:
            return _provider_factories[name]()


_lock = threading.Lock()
_current = Ports()
_provider_factories: dict[str, Callable[[], Any]] = {}


def get() -> Ports:
    """The ports in force, with the AWS adapters filled in on first use."""
    global _current
    ports = _current
    if ports.bus is None or ports.realtime is None:
        with _lock:
            if _current.bus is None:
                _current = replace(_current, bus=_eventbridge())
            if _current.realtime is None:
                _current = replace(_current, realtime=_iot_data())
            ports = _current
    return ports


def register_provider(name: str, factory: Callable[[], Any]) -> None:
    """A context names the adapter of one of its outbound providers (created on first use per call site)."""
    _provider_factories[name] = factory


@contextlib.contextmanager
def use(**overrides: Any) -> Iterator[Ports]:
    """Replace some ports for the duration (tests). Providers given here are merged."""
    global _current
    before = _current
    providers = {**before.providers, **overrides.pop("providers", {})}
    _current = replace(before, providers=providers, **overrides)
    try:
        yield _current
    finally:
        _current = before


def reset() -> None:
    """Forget the adapters (tests swap endpoints between cases)."""
    global _current
    _current = Ports()

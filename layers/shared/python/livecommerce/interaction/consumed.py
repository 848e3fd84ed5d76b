"""The domain events interaction consumes, as their producers' models.

Every type in spec.BROADCAST_EVENTS is owned by one context (manifest.PRODUCERS:
rooms, catalog, orders, marketing) and modelled in that context's `events`
module; the broadcasts function and the timed-metadata cards parse a detail
with its producer's model and read attributes, so a field the producer does not
send fails in the tests, not in the video.
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

from livecommerce.interaction.spec import BROADCAST_EVENTS
from livecommerce.manifest import PRODUCERS
from livecommerce.shared.events import DomainEvent


class NotConsumed(LookupError):
    """A detail type interaction does not subscribe to."""


@lru_cache(maxsize=None)
def model_of(detail_type: str) -> type[DomainEvent]:
    """The producer's model of a consumed event type (livecommerce.<producer>.events.<type>)."""
    if detail_type not in BROADCAST_EVENTS:
        raise NotConsumed(detail_type)
    module = importlib.import_module(f"livecommerce.{PRODUCERS[detail_type]}.events")
    return getattr(module, detail_type)


def parse(detail_type: str, detail: dict[str, Any]) -> DomainEvent:
    """The detail as its producer's model; raises NotConsumed or pydantic's ValidationError."""
    return model_of(detail_type).parse(detail)

"""Typed events: every event a context declares has a model, the catalogue is current."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from livecommerce import manifest
from livecommerce.shared.events import DomainEvent

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))


@pytest.mark.parametrize("context", [c for c in manifest.CONTEXTS if c.emits], ids=lambda c: c.name)
def test_each_declared_event_has_exactly_one_model_in_its_producer(context):
    module = importlib.import_module(f"livecommerce.{context.name}.events")
    models = {value.detail_type: value for value in vars(module).values()
              if isinstance(value, type) and issubclass(value, DomainEvent) and value is not DomainEvent
              and value.__module__ == module.__name__}
    assert set(models) == set(context.emits), (context.name, set(models) ^ set(context.emits))


def test_the_committed_catalogue_and_schemas_are_current():
    from write_event_catalogue import outputs

    wanted = outputs()
    for path, text in wanted.items():
        assert path.is_file() and path.read_text(encoding="utf-8") == text, \
            f"{path.relative_to(ROOT)} is stale: run `make events` and commit it"
    committed = set((ROOT / "events" / "schemas").glob("*.json"))
    assert committed == {p for p in wanted if p.suffix == ".json"}, "events/schemas holds a schema of no event"


def test_a_detail_round_trips_through_its_model():
    """What a producer publishes is what its consumers parse back (envelope fields aside)."""
    from livecommerce.event_catalogue import event_models

    class Sample(DomainEvent):
        room_id: str
        count: int = 0

    sample = Sample(room_id="R1")
    assert sample.detail() == {"room_id": "R1"}
    parsed = Sample.parse({**sample.detail(), "event_id": "E1", "occurred_at": "2026-12-05T00:00:00+00:00",
                           "added_later": 1})
    assert parsed.room_id == "R1" and parsed.count == 0 and parsed.event_id == "E1"
    with pytest.raises(AttributeError):
        parsed.title  # noqa: B018 - a field the event does not have is an error, not None
    assert Sample.detail_type == "Sample" and set(event_models()) <= set(manifest.PRODUCERS)

"""The outbox flush puts an aggregate's events on the bus in one batch and deletes the items of the
events the bus took in one BatchWriteItem; an event the bus refused keeps its item (moto)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


class PartialBus:
    """Takes every event but those of the refused detail types, as PutEvents does with a
    partially failed batch (an ErrorCode on some entries)."""

    def __init__(self, refuse: set[str]) -> None:
        self.refuse = refuse
        self.calls: list[list[tuple[str, dict]]] = []

    def put(self, detail_type, detail, *, resources=None):   # pragma: no cover - the outbox batches
        raise AssertionError("the outbox puts its events in one batch")

    def put_many(self, events):
        self.calls.append(list(events))
        return [detail_type not in self.refuse for detail_type, _ in events]


def test_one_batch_per_flush_and_a_refused_event_keeps_its_item(aws_env, monkeypatch):
    from pynamodb.connection.base import Connection

    from livecommerce.rooms.repository import OUTBOX
    from livecommerce.shared import ports

    operations: list[str] = []
    original = Connection._make_api_call

    def counted(self, operation_name, operation_kwargs):
        operations.append(operation_name)
        return original(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counted)
    pk = "ROOM#batch-test"
    for item in OUTBOX.items(pk, [("A", {"n": 1}), ("B", {"n": 2}), ("C", {"n": 3}), ("D", {"n": 4})]):
        item.save()
    created = {item.detail_type: item.created_at for item in OUTBOX.model.query(pk)}

    bus = PartialBus(refuse={"B"})
    operations.clear()
    with ports.use(bus=bus):
        assert OUTBOX.flush(pk) == 3
    assert [[kind for kind, _ in call] for call in bus.calls] == [["A", "B", "C", "D"]]   # one call, in order
    first = bus.calls[0]
    assert [detail["n"] for _, detail in first] == [1, 2, 3, 4]
    assert all(detail["event_id"] for _, detail in first)
    assert [detail["occurred_at"] for _, detail in first] == [created[k].replace("Z", "+00:00") for k in "ABCD"]
    assert operations == ["Query", "BatchWriteItem"]   # not a DeleteItem per event
    assert [item.detail_type for item in OUTBOX.model.query(pk)] == ["B"]   # the refused one stays

    everything = PartialBus(refuse=set())
    operations.clear()
    with ports.use(bus=everything):
        assert OUTBOX.flush(pk) == 1
    assert [[kind for kind, _ in call] for call in everything.calls] == [["B"]]
    assert everything.calls[0][0][1]["event_id"] == first[1][1]["event_id"]   # the same event, again
    assert operations == ["Query", "DeleteItem"]
    assert list(OUTBOX.model.query(pk)) == []

    with ports.use(bus=PartialBus(refuse={"A", "B", "C", "D"})):   # nothing taken: nothing deleted
        for item in OUTBOX.items(pk, [("A", {}), ("C", {})]):
            item.save()
        operations.clear()
        assert OUTBOX.flush(pk) == 0
    assert operations == ["Query"]
    assert sorted(item.detail_type for item in OUTBOX.model.query(pk)) == ["A", "C"]


def test_a_bus_without_batches_gets_the_events_one_by_one_until_it_refuses(aws_env):
    from livecommerce.rooms.repository import OUTBOX
    from livecommerce.shared import events, ports

    class OneByOne:
        def __init__(self) -> None:
            self.got: list[str] = []

        def put(self, detail_type, detail, *, resources=None):
            if detail_type == "B":
                raise events.EventPublishError("refused")
            self.got.append(detail_type)

    pk = "ROOM#one-by-one"
    for item in OUTBOX.items(pk, [("A", {}), ("B", {}), ("C", {})]):
        item.save()
    bus = OneByOne()
    with ports.use(bus=bus):
        assert OUTBOX.flush(pk) == 1
    assert bus.got == ["A"]   # C waits behind the refused B, as the per-event flush did
    assert sorted(item.detail_type for item in OUTBOX.model.query(pk)) == ["B", "C"]

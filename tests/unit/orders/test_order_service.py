"""Orders use cases with fakes: the clock port and an in-memory order instead of DynamoDB."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from livecommerce import orders
from livecommerce.orders import repository, service
from livecommerce.shared import ports, problems
from tests.fakes import FakeClock, InMemoryBus, RecordingPublisher


@pytest.fixture()
def clock():
    clock = FakeClock()
    with ports.use(bus=InMemoryBus(), realtime=RecordingPublisher(), clock=clock):
        yield clock


def _order(state=service.PENDING, user_id="U1", pay_by_epoch=None, clock=None):
    epoch = pay_by_epoch if pay_by_epoch is not None else int(clock.now().timestamp()) + 600
    return SimpleNamespace(order_id="O1", user_id=user_id, state=state, total=990, pay_by="2026-12-05T12:10:00Z",
                           pay_by_epoch=epoch, lines=[{"name": "Tea"}, {"name": "Cup"}])


@pytest.fixture()
def stored(monkeypatch):
    box = {}
    monkeypatch.setattr(repository, "get_order", lambda order_id, consistent=True: box.get(order_id))
    return box


def test_a_pending_order_is_payable_by_its_buyer_until_its_window_closes(clock, stored):
    stored["O1"] = _order(clock=clock)
    caller = SimpleNamespace(user_id="U1", is_operator=False)
    payable = orders.payable_order(caller, "O1")
    assert (payable.total, payable.line_names) == (990, ["Tea", "Cup"])
    clock.advance(600)                  # the window is read from the clock port
    with pytest.raises(problems.Conflict) as info:
        orders.payable_order(caller, "O1")
    assert info.value.code == "order_expired"


@pytest.mark.parametrize("state,code", [(service.PAID, "order_already_paid"), (service.EXPIRED, "order_not_payable")])
def test_a_closed_order_is_not_payable(clock, stored, state, code):
    stored["O1"] = _order(state=state, clock=clock)
    with pytest.raises(problems.Conflict) as info:
        orders.payable_order(SimpleNamespace(user_id="U1", is_operator=False), "O1")
    assert info.value.code == code


def test_someone_elses_order_does_not_exist_for_the_caller(clock, stored):
    stored["O1"] = _order(user_id="U2", clock=clock)
    with pytest.raises(problems.NotFound):
        orders.payable_order(SimpleNamespace(user_id="U1", is_operator=False), "O1")

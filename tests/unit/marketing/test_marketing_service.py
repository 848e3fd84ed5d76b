"""Marketing's use cases with in-memory fakes: the clock and bus ports (tests/fakes.py), the
repository's reads, and a transaction that records what it would write (or fails with the
labels a test names). DynamoDB itself is tested in tests/integration/marketing on moto."""
from __future__ import annotations

from datetime import timedelta

import pytest

from livecommerce import marketing, rooms
from livecommerce.marketing import consumers, repository, service
from livecommerce.marketing.storage import CouponItem, DropItem, bind_all
from livecommerce.orders.events import OrderPaid
from livecommerce.shared import idempotency, ports, problems, timers
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import iso
from livecommerce.shared.tx import Tx, TxCancelled
from tests.fakes import FakeClock, InMemoryBus

ROOM = "01ROOM00000000000000000000"
DROP = "01DROP00000000000000000000"
TEMPLATE = "01TEMPLATE0000000000000000"
VIEWER = Caller(user_id="viewer-1", roles=frozenset({"viewer"}))


class RecordingTx(Tx):
    """Keeps what each commit would write; fails the next commits with the labels in `failures`."""

    committed: list["RecordingTx"] = []
    failures: list[set[str]] = []

    def commit(self) -> None:
        if RecordingTx.failures:
            raise TxCancelled(RecordingTx.failures.pop(0))
        RecordingTx.committed.append(self)

    def outbox(self) -> list[tuple[str, dict]]:
        return [(item.detail_type, item.detail) for label, (item, _) in self._puts if label == "outbox"]

    def put_of(self, label: str):
        return next(item for lab, (item, _) in self._puts if lab == label)


@pytest.fixture
def world(monkeypatch):
    """Fakes in place; returns a namespace with the clock, bus, drops, flushed aggregates and timers asked."""
    bind_all()
    RecordingTx.committed, RecordingTx.failures = [], []
    clock, bus = FakeClock(), InMemoryBus()

    class World:
        drops: dict[str, DropItem] = {}
        flushed: list[str] = []
        timers_asked: list[tuple] = []

    w = World()
    w.clock, w.bus, w.drops, w.flushed, w.timers_asked = clock, bus, {}, [], []
    monkeypatch.setattr(service, "Tx", RecordingTx)
    monkeypatch.setattr(repository, "get_drop", lambda drop_id, consistent=False: w.drops.get(drop_id))
    monkeypatch.setattr(repository, "flush_outbox", lambda pk: w.flushed.append(pk) or 0)
    monkeypatch.setattr(idempotency, "replayed", lambda *a, **k: None)
    monkeypatch.setattr(timers, "request", lambda *a, **k: w.timers_asked.append((a, k)) or True)
    # The rooms face (the visibility gate): host-1's public room unless a test sets w.rooms.
    w.rooms = {ROOM: rooms.RoomRef(room_id=ROOM, host_id="host-1", status="live", visibility="public",
                                   scheduled_start=iso(clock.now()))}
    monkeypatch.setattr(rooms, "get_room", lambda room_id, consistent=False: w.rooms.get(room_id))
    rooms.clear_cache()
    with ports.use(clock=clock, bus=bus):
        yield w
    rooms.clear_cache()


def drop(w, *, drops_in=timedelta(0), left=10, per_user_limit=2, purpose="claim", pending=False) -> DropItem:
    at = w.clock.now() + drops_in
    item = DropItem(*DropItem.key(DROP), drop_id=DROP, template_id=TEMPLATE, room_id=ROOM, purpose=purpose,
                    terms={"name": "满100减20", "kind": "threshold", "amount": 2000, "threshold": 10000,
                           "per_user_limit": per_user_limit, "valid_from": None, "valid_until": None,
                           "valid_days": 7, "room_id": ROOM},
                    quantity=10, left=left, drops_at=iso(at), drops_at_epoch=int(at.timestamp()),
                    created_by="host-1", created_at=iso(w.clock.now()))
    if pending:
        item.gsi1pk, item.gsi1sk = repository.DROP_PENDING, f"{int(at.timestamp()):012d}#{DROP}"
    w.drops[DROP] = item
    return item


# -- claims ------------------------------------------------------------------------------

def test_a_claim_writes_the_coupon_counter_drop_and_event_in_one_transaction(world):
    drop(world)
    coupon, created = service.claim(VIEWER, DROP, "key-00000001")
    assert created is True
    [tx] = RecordingTx.committed
    assert sorted(tx.labels()) == ["counter", "coupon", "drop", "idem", "outbox"]
    assert tx.outbox() == [("CouponClaimed", {"drop_id": DROP, "room_id": ROOM, "template_id": TEMPLATE,
                                              "coupon_id": coupon.id, "user_id": "viewer-1",
                                              "event_id": tx.outbox()[0][1]["event_id"]})]
    assert world.flushed == ["USER#viewer-1"]            # the claimer's partition, not the drop's
    assert coupon.state == "available" and coupon.source == "claim"
    assert coupon.claimed_at == iso(world.clock.now())
    assert coupon.valid_until == iso(world.clock.now() + timedelta(days=7))


def test_a_test_rooms_coupons_are_claimed_by_those_who_run_it_only(world):
    """A test room's drop is as no drop to a viewer (404 drop_not_found); its host rehearses the claim."""
    drop(world)
    world.rooms[ROOM] = world.rooms[ROOM].model_copy(update={"visibility": "test"})
    with pytest.raises(problems.NotFound) as hidden:
        service.claim(VIEWER, DROP, "key-00000002")
    assert hidden.value.code == "drop_not_found" and RecordingTx.committed == []
    host = Caller(user_id="host-1", roles=frozenset({"viewer", "host"}))
    coupon, created = service.claim(host, DROP, "key-00000003")
    assert created is True and len(RecordingTx.committed) == 1


@pytest.mark.parametrize("failed,code", [({"drop"}, "drop_exhausted"), ({"counter"}, "claim_limit_reached")])
def test_a_claim_reads_its_failed_conditions_by_label(world, failed, code):
    drop(world, per_user_limit=2)
    RecordingTx.failures = [failed]
    with pytest.raises(problems.Conflict) as raised:
        service.claim(VIEWER, DROP, "key-00000002")
    assert raised.value.code == code
    assert RecordingTx.committed == [] and world.flushed == []


def test_a_drop_before_its_moment_or_emptied_is_not_claimed(world):
    drop(world, drops_in=timedelta(minutes=5))
    with pytest.raises(problems.Conflict) as raised:
        service.claim(VIEWER, DROP, "key-00000003")
    assert raised.value.code == "drop_not_started"
    drop(world, left=0)
    with pytest.raises(problems.Conflict) as raised:
        service.claim(VIEWER, DROP, "key-00000004")
    assert raised.value.code == "drop_exhausted"
    # No claim transaction: the only commit is the drop's end, announced once (CouponDropExhausted).
    assert [[(t, {k: v for k, v in d.items() if k != "event_id"}) for t, d in tx.outbox()]
            for tx in RecordingTx.committed] == [
        [("CouponDropExhausted", {"drop_id": DROP, "room_id": ROOM, "quantity": 10})]]
    world.drops[DROP].exhausted_at = "2026-01-01T00:00:00Z"    # as that commit wrote it
    with pytest.raises(problems.Conflict):
        service.claim(VIEWER, DROP, "key-00000005")
    assert len(RecordingTx.committed) == 1                    # not announced again


def test_a_share_reward_drop_is_not_claimable(world):
    drop(world, purpose="share_reward")
    with pytest.raises(problems.Conflict) as raised:
        service.claim(VIEWER, DROP, "key-00000005")
    assert raised.value.code == "drop_not_claimable"


# -- drops announced at their moment ---------------------------------------------------------

def test_run_drop_waits_for_the_moment_then_announces_once(world):
    item = drop(world, drops_in=timedelta(seconds=30), pending=True)
    at = world.clock.now() + timedelta(seconds=30)
    assert service.run_drop(DROP, world.clock.now()) == timers.StepResult(None, at)
    assert RecordingTx.committed == []
    result = service.run_drop(DROP, at)
    assert result.ran == "drop"
    [tx] = RecordingTx.committed
    [(detail_type, detail)] = tx.outbox()
    assert detail_type == "CouponDropped" and detail["scheduled"] is True
    assert {k: detail[k] for k in ("drop_id", "room_id", "quantity", "amount", "threshold", "drops_at")} == {
        "drop_id": DROP, "room_id": ROOM, "quantity": 10, "amount": 2000, "threshold": 10000,
        "drops_at": item.drops_at}
    # Announced by another timer meanwhile: the condition fails, nothing more happens.
    RecordingTx.failures = [{"drop"}]
    assert service.run_drop(DROP, at) == timers.StepResult(None, None)
    assert world.flushed == [item.pk]


def test_run_drop_ignores_a_drop_already_announced(world):
    drop(world, pending=False)
    assert service.run_drop(DROP, world.clock.now()) == timers.StepResult(None, None)
    assert service.run_drop("01NONE00000000000000000000", world.clock.now()) == timers.StepResult(None, None)


# -- points ------------------------------------------------------------------------------

def test_points_are_awarded_once_per_ref_and_never_for_nothing(world):
    assert service.award_points("viewer-1", 0, reason="order_paid", ref="order:1") is False
    assert service.award_points("viewer-1", -5, reason="order_paid", ref="order:1") is False
    assert RecordingTx.committed == []
    assert service.award_points("viewer-1", 12, reason="order_paid", ref="order:1") is True
    [tx] = RecordingTx.committed
    assert sorted(tx.labels()) == ["balance", "ledger", "outbox", "ref"]
    [(detail_type, detail)] = tx.outbox()
    assert detail_type == "PointsChanged"
    assert {k: v for k, v in detail.items() if k != "event_id"} == {"user_id": "viewer-1", "delta": 12,
                                                                    "reason": "order_paid", "ref": "order:1"}
    RecordingTx.failures = [{"ref"}]                    # the same order again
    assert service.award_points("viewer-1", 12, reason="order_paid", ref="order:1") is False


def test_order_paid_earns_whole_yuan_times_the_rate(world, monkeypatch):
    awarded: list[tuple] = []
    monkeypatch.setattr(service, "award_points", lambda user_id, points, *, reason, ref:
                        awarded.append((user_id, points, reason, ref)) or True)
    monkeypatch.setenv("POINTS_PER_YUAN", "2")
    paid = OrderPaid(order_id="01ORDER", user_id="viewer-1", room_id=ROOM, kind="room", subtotal=12_345,
                     discount=0, total=12_345, lines=[{"product_id": "P1", "quantity": 1, "unit_price": 12_345}],
                     channel="wechat", transaction_id="T1", paid_at="2026-12-05T12:00:00Z").detail()
    assert consumers.on_domain_event({"detail-type": "OrderPaid", "detail": paid}) == {
        "detail_type": "OrderPaid", "points": 246, "awarded": True}
    assert awarded == [("viewer-1", 246, "order_paid", "order:01ORDER")]
    assert consumers.on_domain_event({"detail-type": "OrderCreated", "detail": paid}) == {
        "detail_type": "OrderCreated", "ignored": True}
    assert consumers.on_domain_event({"detail-type": "OrderPaid", "detail": {"order_id": "x"}})["ignored"] is True
    assert len(awarded) == 1


# -- the face's transaction pieces -------------------------------------------------------------

def test_the_face_adds_coupon_items_to_the_callers_transaction_under_its_label():
    tx = Tx()
    marketing.lock_coupon(tx, "viewer-1", "C1", "O1")
    marketing.release_coupon(tx, "viewer-1", "C2", "O1", label="coupon:2")
    marketing.use_coupon(tx, "viewer-1", "C3", "O1", "2026-12-05T12:00:00Z", label="coupon:3")
    assert tx.labels() == ["coupon", "coupon:2", "coupon:3"]
    items = [item for _, (item, _, _) in tx._updates]
    assert all(isinstance(i, CouponItem) for i in items)
    assert [(i.pk, i.sk) for i in items] == [CouponItem.key("viewer-1", c) for c in ("C1", "C2", "C3")]
    assert marketing.coupon_failed(TxCancelled({"coupon", "stock:P1"})) is True
    assert marketing.coupon_failed(TxCancelled({"stock:P1"})) is False
    assert marketing.coupon_failed(TxCancelled({"coupon:3"}), label="coupon:3") is True

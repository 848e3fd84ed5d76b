"""idempotency.commit_once with an in-memory record store and transaction (no DynamoDB)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from livecommerce.shared import idempotency, problems
from livecommerce.shared.idempotency import Effect, commit_once
from livecommerce.shared.tx import TxCancelled


class FakeRecords:
    """The IDEMPOTENCY table: record id -> record; `replayed` and `new_record` as the module's."""

    def __init__(self) -> None:
        self.rows: dict[str, SimpleNamespace] = {}
        self.reads = 0

    def replayed(self, scope, owner, key, fp):
        self.reads += 1
        found = self.rows.get(idempotency.record_id(scope, owner, key))
        if found is not None and found.fingerprint != fp:
            raise problems.ValidationFailed("reused", code="idempotency_key_reused")
        return found

    def new_record(self, scope, owner, key, fp, *, ref=None, response=None, ttl_seconds=0):
        return SimpleNamespace(id=idempotency.record_id(scope, owner, key), fingerprint=fp, ref=ref,
                               response=response)


class FakeTx:
    """Commits into the fake store; the record's condition fails when it exists; `fail` fails other labels."""

    def __init__(self, records: FakeRecords, *, fail: set[str] = frozenset(), race=None) -> None:
        self.records, self.fail, self.race = records, set(fail), race
        self.items: list[tuple[str, object]] = []
        self.committed = False

    def put(self, label, item, condition=None):
        self.items.append((label, item))
        return self

    def commit(self):
        if self.race is not None:            # another request with the same key commits first
            self.records.rows[self.race.id] = self.race
        failed = {label for label, _ in self.items if label in self.fail}
        for label, item in self.items:
            if label == idempotency.IDEM_LABEL and item.id in self.records.rows:
                failed.add(label)
        if failed:
            raise TxCancelled(failed)
        for label, item in self.items:
            if label == idempotency.IDEM_LABEL:
                self.records.rows[item.id] = item
        self.committed = True


@pytest.fixture()
def records(monkeypatch):
    store = FakeRecords()
    monkeypatch.setattr(idempotency, "replayed", store.replayed)
    monkeypatch.setattr(idempotency, "new_record", store.new_record)
    monkeypatch.setattr(idempotency, "put_condition", lambda: None)
    return store


def _once(records, tx, *, value="made", ref="r1", fp="fp", check_first=True, after=None):
    return commit_once("order", "u1", "key-12345", fp, lambda: Effect(tx, value, ref=ref, after=after),
                       lambda record: f"replayed:{record.ref}", check_first=check_first)


def test_first_request_commits_effect_and_record_and_runs_after(records):
    flushed = []
    tx = FakeTx(records)
    assert _once(records, tx, after=lambda: flushed.append(1)) == "made"
    assert tx.committed and flushed == [1]
    assert [label for label, _ in tx.items] == ["idem"]
    assert records.rows[idempotency.record_id("order", "u1", "key-12345")].ref == "r1"


def test_retry_is_answered_from_the_first_record_without_building(records):
    _once(records, FakeTx(records))
    built = []

    def build():
        built.append(1)
        return Effect(FakeTx(records), "again", ref="r2")

    answer = commit_once("order", "u1", "key-12345", "fp", build, lambda record: f"replayed:{record.ref}")
    assert answer == "replayed:r1" and built == []


def test_same_key_other_request_is_refused(records):
    _once(records, FakeTx(records))
    with pytest.raises(problems.ValidationFailed):
        _once(records, FakeTx(records), fp="other")


def test_lost_race_replays_the_winner_and_skips_after(records):
    winner = records.new_record("order", "u1", "key-12345", "fp", ref="winner")
    flushed = []
    tx = FakeTx(records, race=winner)
    assert _once(records, tx, after=lambda: flushed.append(1)) == "replayed:winner"
    assert not tx.committed and flushed == []


def test_lost_race_with_unreadable_record_is_a_retryable_conflict(records):
    ghost = SimpleNamespace(id=idempotency.record_id("order", "u1", "key-12345"), fingerprint="fp", ref="x")
    tx = FakeTx(records, race=ghost)
    records.replayed = lambda *a: None          # expired: TTL deletion lags
    idempotency.replayed = records.replayed
    with pytest.raises(problems.Conflict) as info:
        _once(records, tx, check_first=False)
    assert info.value.code == "concurrent_update"


def test_effect_conditions_failing_reach_the_caller_by_label(records):
    with pytest.raises(TxCancelled) as info:
        _once(records, FakeTx(records, fail={"stock:p1"}).put("stock:p1", object()))
    assert "stock:p1" in info.value and "idem" not in info.value
    assert records.rows == {}


def test_check_first_false_skips_the_read(records):
    _once(records, FakeTx(records), check_first=False)
    assert records.reads == 0


def _refusing_build(records, race=None):
    """A build that refuses on what it reads (the balance a concurrent request with the same key just
    debited), after `race` (that request's record) has landed."""
    def build():
        if race is not None:
            records.rows[race.id] = race
        raise problems.Conflict("Not enough points.", code="insufficient_points")
    return build


def test_refusal_after_the_same_key_committed_meanwhile_replays_the_winner(records):
    winner = records.new_record("gift", "u1", "key-12345", "fp", ref="winner")
    answer = commit_once("gift", "u1", "key-12345", "fp", _refusing_build(records, race=winner),
                         lambda record: f"replayed:{record.ref}")
    assert answer == "replayed:winner" and records.reads == 2


def test_refusal_without_a_winner_reaches_the_caller(records):
    with pytest.raises(problems.Conflict) as info:
        commit_once("gift", "u1", "key-12345", "fp", _refusing_build(records), lambda record: "replayed")
    assert info.value.code == "insufficient_points"
    winner = records.new_record("gift", "u1", "key-12345", "fp", ref="winner")
    with pytest.raises(problems.Conflict):       # check_first=False: no read on the refusal either
        commit_once("gift", "u1", "key-12345", "fp", _refusing_build(records, race=winner),
                    lambda record: "replayed", check_first=False)
    assert records.reads == 2

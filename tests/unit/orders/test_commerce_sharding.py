"""Flash-sale stock sharding and commerce plumbing that needs no AWS."""
from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.orders import sharding
from livecommerce.orders.repository import OUTBOX
from livecommerce.shared.outbox import shard_of


@given(st.integers(0, 10**7), st.integers(1, 64))
def test_split_keeps_every_unit_and_is_even(stock, shards):
    parts = sharding.split_stock(stock, shards)
    assert len(parts) == shards and sum(parts) == stock and max(parts) - min(parts) <= 1


@given(st.integers(1, 10**7))
def test_shard_count_bounds(stock):
    n = sharding.shard_count(stock)
    assert 1 <= n <= sharding.MAX_SHARDS
    assert n == sharding.MAX_SHARDS or n * sharding.UNITS_PER_SHARD >= stock


def test_ceiling_figures():
    assert sharding.shard_count(200) == 8 and sharding.ceiling_orders_per_second(8) == 4000
    assert sharding.ceiling_orders_per_second(sharding.MAX_SHARDS) == 8000
    assert sharding.ceiling_orders_per_second(1) == 500


def test_probe_order_is_a_permutation_that_spreads_buyers():
    rng = random.Random(1)
    firsts = [sharding.probe_order(8, rng)[0] for _ in range(8000)]
    assert sorted(sharding.probe_order(8, rng)) == list(range(8))
    counts = [firsts.count(k) for k in range(8)]
    assert min(counts) > 800   # about 1,000 each


def test_outbox_shards_are_stable_and_spread():
    assert shard_of("ORDER#A", OUTBOX.shards) == shard_of("ORDER#A", OUTBOX.shards)
    used = {shard_of(f"ORDER#{i}", OUTBOX.shards) for i in range(500)}
    assert used == set(range(OUTBOX.shards)) and OUTBOX.shards == 16


@pytest.mark.parametrize("value,ok", [("k-1234567", True), ("abc", False), ("a" * 101, False), ("has space1", False),
                                      ("uuid:550e8400-e29b", True), (None, False)])
def test_idempotency_key_format(value, ok):
    from livecommerce.shared import idempotency
    from livecommerce.shared import problems

    if ok:
        assert idempotency.check_key(value) == value
    else:
        with pytest.raises(problems.ValidationFailed):
            idempotency.check_key(value)


def test_fingerprints_ignore_key_order():
    from livecommerce.shared.idempotency import fingerprint

    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


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



@given(st.integers(1, 10**7), st.one_of(st.none(), st.integers(1, sharding.MAX_EXPECTED_RATE)))
def test_shards_for_rate_cover_it_within_the_stock(stock, rate):
    n = sharding.shards_for(stock, rate)
    per_shard = sharding.WCU_PER_PARTITION // sharding.WCU_PER_TRANSACTIONAL_WRITE
    assert 1 <= n <= min(stock, sharding.MAX_SHARDS_FOR_RATE)          # never more shards than units
    assert n >= min(sharding.shard_count(stock), stock)                 # never fewer than from the stock
    if rate is not None and stock >= -(-rate // per_shard):
        assert n * per_shard >= rate                                    # the shards take the rate
        assert sharding.ceiling_orders_per_second(n) >= rate
    if rate is None:
        assert n == sharding.shard_count(stock)
    assert sharding.shards_for(stock, (rate or 0) + 500) >= n           # monotone in the rate


def test_big_sale_figures():
    assert sharding.shards_for(20_000, 10_000) == 20 and sharding.ceiling_orders_per_second(20) == 10_000
    assert sharding.shards_for(5, 10_000) == 5                          # 5 units: 5 shards, not 20
    assert sharding.shards_for(200, None) == 8
    warm = sharding.warm_write_units(10_000)
    assert warm == {"Orders": 140_000, "Idempotency": 20_000}
    assert sharding.table_ceiling_orders_per_second(sharding.DEFAULT_TABLE_WRITE_QUOTA) == 2_857
    assert sharding.sale_ceiling_orders_per_second(20, warm["Orders"]) == 10_000
    assert sharding.warm_write_units(1) == {"Orders": 4_000, "Idempotency": 4_000}   # never below the default
    with pytest.raises(ValueError):
        sharding.shards_for(0, 10)

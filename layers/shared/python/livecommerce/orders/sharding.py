"""Flash-sale stock sharding as plain functions.

A hot sale's stock is split over several items, each under its own partition
key, so the conditional decrements spread over several DynamoDB partitions
instead of queueing on one. One partition takes 1,000 write units per second;
a transactional write of an item under 1 KB costs 2, so one shard absorbs at
most 500 successful decrements per second and S shards 500 x S. See
docs/commerce.md for the whole ceiling.
"""
from __future__ import annotations

import math
import random
from typing import Sequence

UNITS_PER_SHARD = 25      # below this, extra shards only add empty-shard probes near the end
MAX_SHARDS = 16
WCU_PER_PARTITION = 1000
WCU_PER_TRANSACTIONAL_WRITE = 2


def shard_count(stock: int) -> int:
    return max(1, min(MAX_SHARDS, math.ceil(stock / UNITS_PER_SHARD)))


def split_stock(stock: int, shards: int) -> list[int]:
    """Units per shard: as even as possible, the remainder on the first shards."""
    if shards < 1 or stock < 0:
        raise ValueError("need at least one shard and no negative stock")
    base, extra = divmod(stock, shards)
    return [base + (1 if i < extra else 0) for i in range(shards)]


def probe_order(shards: int, rng: random.Random | None = None) -> list[int]:
    """The order a buyer tries the shards in: a random permutation, so buyers spread evenly."""
    order = list(range(shards))
    (rng or random).shuffle(order)
    return order


def ceiling_orders_per_second(shards: int) -> int:
    """The stock items' write ceiling: successful holds per second the shards can absorb."""
    return shards * WCU_PER_PARTITION // WCU_PER_TRANSACTIONAL_WRITE


def total_left(lefts: Sequence[int]) -> int:
    return sum(max(0, int(v)) for v in lefts)

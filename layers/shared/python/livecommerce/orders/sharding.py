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
MAX_SHARDS = 16          # from the stock alone (no expected rate given)
# With an expected rate: 90 x 500 = 45,000 holds/s. The sale is created in one transaction with
# all its shards (TransactWriteItems takes 100 items: the shards, the sale, its event, the stock).
MAX_SHARDS_FOR_RATE = 90
MAX_EXPECTED_RATE = MAX_SHARDS_FOR_RATE * 500
WCU_PER_PARTITION = 1000
WCU_PER_TRANSACTIONAL_WRITE = 2


def shard_count(stock: int) -> int:
    return max(1, min(MAX_SHARDS, math.ceil(stock / UNITS_PER_SHARD)))


def shards_for(stock: int, expected_rate: int | None = None) -> int:
    """Shards for a sale of `stock` units expected to sell at `expected_rate` holds per second.

    At least the stock-only count (shard_count), and enough that the shards' write ceiling covers
    the expected rate (shards >= rate / 500, one partition's 1,000 WCU at 2 WCU a transactional
    write), but never more shards than units (an empty shard only costs failed probes) nor more
    than MAX_SHARDS_FOR_RATE."""
    if stock < 1:
        raise ValueError("a sale has at least one unit")
    shards = shard_count(stock)
    if expected_rate:
        per_shard = WCU_PER_PARTITION // WCU_PER_TRANSACTIONAL_WRITE
        shards = max(shards, math.ceil(expected_rate / per_shard))
    return max(1, min(shards, stock, MAX_SHARDS_FOR_RATE))


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


# -- table-level throughput for a big sale (docs/commerce.md, "Past 10,000 orders/s") ----------

# Write units one flash-sale buy costs per table, measured with a counting hook on the real buy
# path (tests/integration/orders/test_flash_scale.py): Orders = order 2 + its three index entries
# 3 (gsi1 expiry, gsi2 the buyer's orders, gsi3 the room's orders since GET /v1/rooms/{id}/orders)
# + OrderCreated outbox event 2 + its index entry 1 + shard 2 + buyer counter 2 + the event's
# delete after publishing 1 + its index entry 1 = 14; Idempotency = the key's record 2.
ORDER_WRITE_UNITS = {"Orders": 14, "Idempotency": 2}
# A new on-demand table's warm throughput (DynamoDB's documented starting values), and the
# default table-level quota on an on-demand table (Service Quotas, adjustable per table).
DEFAULT_WARM_WRITE_UNITS = 4_000
DEFAULT_WARM_READ_UNITS = 12_000
DEFAULT_TABLE_WRITE_QUOTA = 40_000


def warm_write_units(expected_rate: int) -> dict[str, int]:
    """Write units per second each table must take for `expected_rate` buys a second (never
    below a new table's default: warm throughput only ever goes up)."""
    if expected_rate < 1:
        raise ValueError("an expected rate is at least one buy a second")
    return {table: max(DEFAULT_WARM_WRITE_UNITS, expected_rate * units) for table, units in ORDER_WRITE_UNITS.items()}


def table_ceiling_orders_per_second(write_units: int, table: str = "Orders") -> int:
    """Buys per second a table taking `write_units` a second can absorb."""
    return write_units // ORDER_WRITE_UNITS[table]


def sale_ceiling_orders_per_second(shards: int, orders_table_write_units: int) -> int:
    """The lower of the shards' ceiling and the Orders table's."""
    return min(ceiling_orders_per_second(shards), table_ceiling_orders_per_second(orders_table_write_units))

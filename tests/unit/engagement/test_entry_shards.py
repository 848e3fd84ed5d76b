"""Entry partitions (engagement.storage): the close concatenates the 16 partitions in shard order
without a merge, which is right only if the shard is the pseudonym's first hex digit."""
from __future__ import annotations

from hypothesis import given, strategies as st

from livecommerce.engagement import draw
from livecommerce.engagement.storage import ENTRY_SHARDS, EntryItem, entry_shard

pseudonyms = st.binary(min_size=draw.PSEUDONYM_BYTES, max_size=draw.PSEUDONYM_BYTES).map(bytes.hex)


@given(st.lists(pseudonyms, unique=True, max_size=200))
def test_partitions_in_shard_order_are_the_sorted_list(entrants):
    parts: list[list[str]] = [[] for _ in range(ENTRY_SHARDS)]
    for e in entrants:
        parts[entry_shard(e)].append(e)
    # each partition is read in key order (ENT#<pseudonym>); concatenated in shard order
    assert [e for part in parts for e in sorted(part)] == sorted(entrants)


@given(pseudonyms)
def test_an_entry_lives_in_its_shards_partition(entrant):
    pk, sk = EntryItem.key("01J00000000000000000000000", entrant)
    assert pk == f"LOTENT#01J00000000000000000000000#{entrant[0]}" and sk == f"ENT#{entrant}"
    assert 0 <= entry_shard(entrant) < ENTRY_SHARDS

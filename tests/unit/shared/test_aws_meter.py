"""benchmarks/meter.py: DynamoDB's documented item sizing and unit rules, which the cost figures rest on."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from benchmarks.meter import AwsMeter, item_bytes, read_units, write_units


def test_item_sizes_follow_the_documented_rules():
    assert item_bytes({"pk": {"S": "ORDER#1"}}) == 2 + 7
    assert item_bytes({"名": {"S": "围巾"}}) == 3 + 6                      # UTF-8 lengths, names too
    assert item_bytes({"n": {"N": "12345"}}) == 1 + 4                     # (5 digits / 2) + 1
    assert item_bytes({"b": {"BOOL": True}, "z": {"NULL": True}}) == 4
    assert item_bytes({"m": {"M": {"a": {"S": "xy"}}}}) == 1 + 3 + (1 + 2 + 1)
    assert item_bytes({"l": {"L": [{"S": "a"}, {"S": "bc"}]}}) == 1 + 3 + (1 + 1) + (2 + 1)


@given(st.integers(0, 400 * 1024), st.booleans())
def test_units_round_up_per_kilobyte_and_double_in_a_transaction(size, transactional):
    units = write_units(size, transactional=transactional)
    plain = max(1, -(-size // 1024))
    assert units == plain * (2 if transactional else 1)
    assert read_units(size, consistent=True) == max(1, -(-size // 4096))
    assert read_units(size, consistent=False) == max(1, -(-size // 4096)) / 2


def test_writes_count_their_indexes_and_deletes():
    meter = AwsMeter()
    item = {"pk": {"S": "ORDER#1"}, "sk": {"S": "META"}, "gsi1pk": {"S": "EXPIRY#3"}, "gsi2pk": {"S": "U#1"}}
    meter._dynamo("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "t", "Item": item}}]}, {})
    meter._dynamo("DeleteItem", {"TableName": "t", "Key": {"pk": item["pk"], "sk": item["sk"]}}, {})
    # put in a transaction: 2, its two index entries: 2; the delete: 1 and 1 per index that held it: 2.
    assert meter.write_units() == {"t": 2 + 2 + 1 + 2}

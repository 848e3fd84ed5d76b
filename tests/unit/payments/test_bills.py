"""Provider bills (payments.bills): read in the providers' formats, compared with our records."""
from __future__ import annotations

from hypothesis import given, strategies as st

from livecommerce.payments import bills
from livecommerce.payments.bills import BillEntry

ids = st.text("0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=6, max_size=26)
entries = st.lists(st.builds(lambda kind, txn, order, amount, rid: BillEntry(
    kind, "x", txn, order, amount, refund_id=rid if kind == "refund" else None),
    st.sampled_from(["payment", "refund"]), ids, ids, st.integers(1, 10**9), ids), max_size=12,
    unique_by=lambda e: (e.kind, e.refund_id if e.kind == "refund" else e.transaction_id))


def _as(channel, es):
    return [BillEntry(e.kind, channel, e.transaction_id, e.order_id, e.amount, e.refund_id) for e in es]


@given(entries)
def test_wechat_trade_bill_round_trip(es):
    es = _as("wechat", es)
    text = bills.wechat_tradebill_csv(es, day="2026-01-02", mchid="1900000109", appid="wx1")
    assert all(line.startswith("`") or line.startswith("交易时间") or line.startswith("总交易单数")
               for line in text.splitlines())
    parsed = bills.parse_wechat_tradebill(text.encode())
    assert parsed.error is None and parsed.entries == es
    assert bills.compare("wechat", parsed, es) == []


@given(entries)
def test_alipay_bill_zip_in_gbk_round_trip(es):
    es = _as("alipay", es)
    parsed = bills.parse_alipay_bill_zip(bills.alipay_bill_zip(es, day="2026-01-02", pid="2088"))
    assert parsed.error is None and parsed.entries == es


def test_missing_extra_and_mismatched_entries():
    ours = [BillEntry("payment", "wechat", "T1", "O1", 100), BillEntry("payment", "wechat", "T2", "O2", 200),
            BillEntry("refund", "wechat", "T1", "O1", 50, refund_id="R1"),
            BillEntry("payment", "alipay", "A1", "O9", 1)]                     # another channel: not compared
    theirs = [BillEntry("payment", "wechat", "T1", "O1", 100), BillEntry("payment", "wechat", "T2", "O2", 201),
              BillEntry("payment", "wechat", "T3", "O3", 300)]
    bill = bills.parse_wechat_tradebill(bills.wechat_tradebill_csv(theirs, day="2026-01-02", mchid="m", appid="a"))
    found = bills.compare("wechat", bill, ours)
    assert [(d.kind, d.entry, d.ours, d.bill) for d in found] == [
        ("amount_mismatch", "T2", 200, 201), ("extra_in_bill", "T3", None, 300), ("missing_in_bill", "R1", 50, None)]


def test_a_bill_that_does_not_parse_is_a_discrepancy_not_an_exception():
    good = bills.wechat_tradebill_csv([BillEntry("payment", "wechat", "T1", "O1", 100)], day="d", mchid="m",
                                      appid="a")
    for broken in (b"", b"\xff\xfe garbage", good.replace("`1.00", "`1x00").encode(),
                   good.replace("`1,", "`2,").encode(), "\n".join(good.splitlines()[:2]).encode(),
                   good.replace("`SUCCESS", "SUCCESS").encode()):
        parsed = bills.parse_wechat_tradebill(broken)
        assert parsed.error, broken
        assert [d.kind for d in bills.compare("wechat", parsed, [])] == ["bill_unparsable"]
    for broken in (b"not a zip", bills.alipay_bill_zip([], day="d", pid="p")[:30]):
        assert bills.parse_alipay_bill_zip(broken).error

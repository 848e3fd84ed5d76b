"""The payment stand-ins' daily bills, built from their own records of payments and refunds with the
writers of livecommerce.payments.bills (the providers' formats), with knobs for a deliberate mismatch.

``bill_fault`` (attribute, or ``POST /__standin/bills {"bill_fault": ...}``):

* ``""``: the bill as the records say;
* ``amount_off``: the first payment's amount one fen more;
* ``missing_row``: the first payment left out;
* ``extra_row``: one payment we never heard of added (order ``EXTRA<day>``);
* ``broken``: a file that does not parse (a truncated header and garbage, with a correct hash);
* ``no_statement``: no bill for the day (WeChat Pay ``NO_STATEMENT_EXIST``, Alipay ``isp.bill_not_exist``).

A day after today (Beijing) has no bill either. Unlike the providers (the day's bill from about 10:00
the next day), a stand-in serves today's bill so far.
"""
from __future__ import annotations

import io
import secrets
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from livecommerce.payments.bills import BillEntry

BILL_FAULTS = ("", "amount_off", "missing_row", "extra_row", "broken", "no_statement")
_BEIJING = timezone(timedelta(hours=8))


def beijing_today() -> str:
    return datetime.now(_BEIJING).date().isoformat()


def with_fault(entries: list[BillEntry], fault: str, *, day: str, channel: str) -> list[BillEntry]:
    """The entries as a faulty bill states them (the first payment is the one changed)."""
    entries = list(entries)
    first = next((i for i, e in enumerate(entries) if e.kind == "payment"), None)
    if fault == "amount_off" and first is not None:
        entries[first] = replace(entries[first], amount=entries[first].amount + 1)
    elif fault == "missing_row" and first is not None:
        del entries[first]
    elif fault == "extra_row":
        prefix = "4200" if channel == "wechat" else day.replace("-", "") + "2200"
        entries.append(BillEntry("payment", channel, prefix + "".join(secrets.choice("0123456789") for _ in range(16)),
                                 f"EXTRA{day.replace('-', '')}", 4321))
    return entries


def broken_bill_text() -> str:
    return "交易时间,公众账号ID,商户号\r\n`2024-01-01 12:00:00,`wx,`19000\r\n\x00\x01garbage"


def broken_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("20880000_业务明细.csv", "#支付宝业务明细查询\r\n支付宝交易号,商户订单号\r\n1,2\r\n".encode("gbk"))
    return buffer.getvalue()[:-7]          # cut short: not a readable zip


class BillKnobs:
    bill_fault = ""

    def bill_control(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /__standin/bills``: set ``bill_fault``."""
        fault = str(body.get("bill_fault", ""))
        if fault not in BILL_FAULTS:
            raise ValueError(f"bill_fault is one of {BILL_FAULTS}")
        self.bill_fault = fault
        return {"bill_fault": fault}

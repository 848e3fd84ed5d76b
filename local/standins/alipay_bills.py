"""The Alipay stand-in's bill (mixed into local.standins.alipay_pay.AlipayPayStandIn).

As the Alipay gateway does:

* ``alipay.data.dataservice.bill.downloadurl.query`` {bill_type: trade, bill_date: yyyy-mm-dd}: a signed
  answer with ``bill_download_url`` (a short link, no signature of its own); another bill_type or a
  malformed date 40004 ``isv.invalid-parameter``; no bill for the day 40004 ``isp.bill_not_exist``;
* ``GET /bill/download?token=...``: the zip of GBK CSV files (the writer of livecommerce.payments.bills)
  with the day's paid trades (by gmt_payment, Beijing) and refunds (by gmt_refund_pay).
"""
from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from livecommerce.payments.bills import BillEntry, alipay_bill_zip
from local.standins.bills import BillKnobs, beijing_today, broken_zip, with_fault

BILL_URL_METHOD = "alipay.data.dataservice.bill.downloadurl.query"
DOWNLOAD_PATH = "/bill/download"


def _fen(text: str) -> int:
    return int(Decimal(text) * 100)


class AlipayBillsMixin(BillKnobs):
    def _downloads(self) -> dict[str, bytes]:
        if not hasattr(self, "_bill_files"):
            self._bill_files: dict[str, bytes] = {}
        return self._bill_files

    def bill_entries(self, day: str) -> list[BillEntry]:
        entries = [BillEntry("payment", "alipay", t.trade_no, t.out_trade_no, _fen(t.total_amount))
                   for t in self.trades.values() if t.gmt_payment and t.gmt_payment[:10] == day]
        entries += [BillEntry("refund", "alipay", r.trade_no, r.out_trade_no, _fen(r.amount), refund_id=r.out_request_no)
                    for r in self.refunds.values() if r.gmt_refund_pay[:10] == day]
        return entries

    def _bill_url(self, biz: dict[str, Any]) -> Any:
        key = BILL_URL_METHOD.replace(".", "_") + "_response"
        day = str(biz.get("bill_date") or "")
        try:
            date.fromisoformat(day)
        except ValueError:
            return self._biz_error(key, "isv.invalid-parameter", "bill_date格式错误")
        if biz.get("bill_type") not in ("trade", "signcustomer"):
            return self._biz_error(key, "isv.invalid-parameter", "bill_type参数错误")
        if self.bill_fault == "no_statement" or day > beijing_today():
            return self._biz_error(key, "isp.bill_not_exist", "账单不存在")
        if self.bill_fault == "broken":
            data = broken_zip()
        else:
            entries = with_fault(self.bill_entries(day), self.bill_fault, day=day, channel="alipay")
            data = alipay_bill_zip(entries, day=day, pid=self.seller_id)
        token = secrets.token_urlsafe(24)
        self._downloads()[token] = data
        return self._signed(key, {"code": "10000", "msg": "Success",
                                  "bill_download_url": f"{self.base_url}{DOWNLOAD_PATH}?token={token}"})

    def handle_bill_download(self, request) -> Any:
        from local.standins import Reply

        if request.path != DOWNLOAD_PATH or request.method != "GET":
            return None
        data = self._downloads().pop(request.query.get("token", ""), None)
        if data is None:
            return Reply(404, b"Not Found", {"Content-Type": "text/plain"})
        return Reply(200, data, {"Content-Type": "application/oct-stream",
                                 "Content-Disposition": "attachment; filename=bill.zip"})

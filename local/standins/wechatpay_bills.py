"""The WeChat Pay stand-in's trade bill (mixed into local.standins.wechatpay_api.WeChatPayStandIn).

As WeChat Pay v3 does:

* ``GET /v3/bill/tradebill?bill_date=yyyy-mm-dd&bill_type=ALL&tar_type=GZIP`` (signed like every
  call): ``{"hash_type": "SHA1", "hash_value": <SHA1 of the uncompressed bill>, "download_url": ...}``;
  a malformed date ``PARAM_ERROR``; no bill for the day 400 ``NO_STATEMENT_EXIST``;
* ``GET /v3/billdownload/file?token=...`` (signed too; the answer is the file, not signed): the bill,
  gzipped when asked for GZIP; an unknown or used-up token 400 ``PARAM_ERROR``.

The bill (local.standins.bills, the CSV writer of livecommerce.payments.bills) holds the day's paid
trades (by success_time, Beijing) and successful refunds (by their success_time).
"""
from __future__ import annotations

import gzip
import hashlib
import secrets
from datetime import date
from typing import Any

from livecommerce.payments.bills import BillEntry, wechat_tradebill_csv
from local.standins.bills import BillKnobs, beijing_today, broken_bill_text, with_fault

TRADEBILL_PATH = "/v3/bill/tradebill"
DOWNLOAD_PATH = "/v3/billdownload/file"


class WeChatBillsMixin(BillKnobs):
    """Needs the stand-in's trades, refunds, signing and authorization check."""

    def _downloads(self) -> dict[str, bytes]:
        if not hasattr(self, "_bill_files"):
            self._bill_files: dict[str, bytes] = {}
        return self._bill_files

    def handle_bills(self, request) -> Any:
        if request.method != "GET":
            return None
        if request.path == TRADEBILL_PATH:
            return self._authorized(request) or self._tradebill(request)
        if request.path == DOWNLOAD_PATH:
            return self._authorized(request) or self._download(request)
        return None

    def bill_entries(self, day: str) -> list[BillEntry]:
        """The day's payments and successful refunds from the stand-in's records."""
        entries = [BillEntry("payment", "wechat", str(t.transaction_id), t.out_trade_no, t.amount)
                   for t in self.trades.values()
                   if t.transaction_id and t.success_time and t.success_time[:10] == day]
        entries += [BillEntry("refund", "wechat", r.transaction_id, r.out_trade_no, r.amount, refund_id=r.out_refund_no)
                    for r in self.refunds.values()
                    if r.status == "SUCCESS" and r.success_time and r.success_time[:10] == day]
        return entries

    def _tradebill(self, request) -> Any:
        day = request.query.get("bill_date", "")
        try:
            date.fromisoformat(day)
        except ValueError:
            return self._error(400, "PARAM_ERROR", "bill_date格式错误")
        if request.query.get("bill_type", "ALL") not in ("ALL", "SUCCESS", "REFUND"):
            return self._error(400, "PARAM_ERROR", "bill_type参数错误")
        if self.bill_fault == "no_statement" or day > beijing_today():
            return self._error(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        if self.bill_fault == "broken":
            text = broken_bill_text()
        else:
            entries = with_fault(self.bill_entries(day), self.bill_fault, day=day, channel="wechat")
            text = wechat_tradebill_csv(entries, day=day, mchid=self.mchid, appid=self.appid)
        raw = text.encode("utf-8")
        token = secrets.token_urlsafe(24)
        self._downloads()[token] = gzip.compress(raw) if request.query.get("tar_type") == "GZIP" else raw
        return self._signed(200, {"hash_type": "SHA1", "hash_value": hashlib.sha1(raw).hexdigest(),
                                  "download_url": f"{self.base_url}{DOWNLOAD_PATH}?token={token}"})

    def _download(self, request) -> Any:
        from local.standins import Reply

        data = self._downloads().pop(request.query.get("token", ""), None)
        if data is None:
            return self._error(400, "PARAM_ERROR", "下载链接已失效")
        return Reply(200, data, {"Content-Type": "application/octet-stream"})

"""The Alipay stand-in's after-sale side: ``alipay.trade.refund``, ``alipay.trade.fastpay.refund.query``,
``alipay.trade.close`` and refund notifications (mixed into local.standins.alipay_pay.AlipayPayStandIn).

As the Alipay gateway does:

* ``alipay.trade.refund`` {out_trade_no | trade_no, refund_amount (yuan), out_request_no (a partial
  refund's id; absent: the trade_no), refund_reason}: the trade must be paid (``ACQ.TRADE_NOT_EXIST``,
  ``ACQ.TRADE_STATUS_ERROR``), the refunds never exceed the total (``ACQ.REFUND_AMT_NOT_EQUAL_TOTAL``).
  The same out_request_no again refunds nothing more and answers ``fund_change`` "N". A new refund
  answers ``fund_change`` "Y" with ``refund_fee`` (the trade's refunded total) and ``gmt_refund_pay``.
* ``alipay.trade.fastpay.refund.query`` {out_request_no, trade_no | out_trade_no}: the refund with
  ``refund_status`` REFUND_SUCCESS, or a bare 10000 answer when there is none (as Alipay answers).
* ``alipay.trade.close``: WAIT_BUYER_PAY becomes TRADE_CLOSED; paid: ``ACQ.TRADE_STATUS_ERROR``.
* After a refund Alipay posts a ``trade_status_sync`` notification to the trade's notify_url (or
  ``refund_notify_url`` when set) carrying ``out_biz_no`` (the out_request_no), ``refund_fee``,
  ``gmt_refund``, RSA2-signed like a payment notification.

Knobs tests use (attributes, or ``POST /__standin/refunds``): ``refund_outcome`` "SUCCESS" or "FAIL"
(``ACQ.TRADE_NOT_ALLOW_REFUND``); ``refund_fund_change`` "Y" or "N" (the answer says the money has
not moved yet: only the query or the notification tells); ``refund_notify`` "send", "drop",
"duplicate" or "hold" (``release_refund_notifications``).
"""
from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

REFUND_METHOD = "alipay.trade.refund"
REFUND_QUERY_METHOD = "alipay.trade.fastpay.refund.query"
CLOSE_METHOD = "alipay.trade.close"
AFTER_SALE_METHODS = (REFUND_METHOD, REFUND_QUERY_METHOD, CLOSE_METHOD)
_BEIJING = timezone(timedelta(hours=8))


@dataclass
class AlipayRefund:
    out_request_no: str
    out_trade_no: str
    trade_no: str
    amount: str                 # yuan text
    gmt_refund_pay: str
    notifications: list[Any] = field(default_factory=list)


def _fen(text: str) -> int:
    return int(Decimal(text) * 100)


class AlipayRefundsMixin:
    refund_outcome = "SUCCESS"
    refund_fund_change = "Y"
    refund_notify = "send"
    refund_notify_url: str | None = None

    def _refund_state(self) -> dict[str, AlipayRefund]:
        if not hasattr(self, "_refunds"):
            self._refunds: dict[str, AlipayRefund] = {}
            self.held_refund_notifications: list[Any] = []
        return self._refunds

    @property
    def refunds(self) -> dict[str, AlipayRefund]:
        return self._refund_state()

    def handle_after_sale(self, method: str, biz: dict[str, Any]) -> Any:
        if method == REFUND_METHOD:
            return self._refund(biz)
        if method == REFUND_QUERY_METHOD:
            return self._query_refund(biz)
        return self._close(biz)

    def _trade_for(self, biz: dict[str, Any]):
        return next((t for t in self.trades.values()
                     if (biz.get("out_trade_no") and t.out_trade_no == biz["out_trade_no"])
                     or (biz.get("trade_no") and t.trade_no == biz["trade_no"])), None)

    def _refund(self, biz: dict[str, Any]) -> Any:
        from local.standins.alipay_pay import _amount

        key = "alipay_trade_refund_response"
        amount = _amount(biz.get("refund_amount"))
        if amount is None:
            return self._biz_error(key, "ACQ.INVALID_PARAMETER", "refund_amount无效")
        send = None
        with self._lock:
            refunds = self._refund_state()
            trade = self._trade_for(biz)
            if trade is None:
                return self._biz_error(key, "ACQ.TRADE_NOT_EXIST", "交易不存在")
            if trade.status not in ("TRADE_SUCCESS", "TRADE_CLOSED") or \
                    (trade.status == "TRADE_CLOSED" and not any(r.trade_no == trade.trade_no
                                                                for r in refunds.values())):
                return self._biz_error(key, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            request_no = str(biz.get("out_request_no") or trade.trade_no)
            existing = refunds.get(request_no)
            refunded = sum(_fen(r.amount) for r in refunds.values() if r.trade_no == trade.trade_no)
            if existing is not None:
                if existing.amount != amount:
                    return self._biz_error(key, "ACQ.INVALID_PARAMETER", "退款请求号对应的退款金额不一致")
                fund_change = "N"
            else:
                if self.refund_outcome == "FAIL":
                    return self._biz_error(key, "ACQ.TRADE_NOT_ALLOW_REFUND", "当前交易不允许退款")
                if refunded + _fen(amount) > _fen(trade.total_amount):
                    return self._biz_error(key, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
                existing = AlipayRefund(out_request_no=request_no, out_trade_no=trade.out_trade_no,
                                        trade_no=trade.trade_no, amount=amount,
                                        gmt_refund_pay=datetime.now(_BEIJING).strftime("%Y-%m-%d %H:%M:%S"))
                refunds[request_no] = existing
                refunded += _fen(amount)
                if refunded == _fen(trade.total_amount):
                    trade.status = "TRADE_CLOSED"
                fund_change = self.refund_fund_change
                send = existing
        answer = self._signed(key, {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                                    "out_trade_no": trade.out_trade_no, "buyer_logon_id": "159****5620",
                                    "fund_change": fund_change, "refund_fee": f"{refunded / 100:.2f}",
                                    "gmt_refund_pay": existing.gmt_refund_pay})
        if send is not None:
            self._notify_refund(send)
        return answer

    def _query_refund(self, biz: dict[str, Any]) -> Any:
        key = "alipay_trade_fastpay_refund_query_response"
        trade = self._trade_for(biz)
        if trade is None:
            return self._biz_error(key, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        item = self._refund_state().get(str(biz.get("out_request_no") or ""))
        if item is None or item.trade_no != trade.trade_no:
            return self._signed(key, {"code": "10000", "msg": "Success"})
        return self._signed(key, {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                                  "out_trade_no": trade.out_trade_no, "out_request_no": item.out_request_no,
                                  "total_amount": trade.total_amount, "refund_amount": item.amount,
                                  "refund_status": "REFUND_SUCCESS", "gmt_refund_pay": item.gmt_refund_pay})

    def _close(self, biz: dict[str, Any]) -> Any:
        key = "alipay_trade_close_response"
        with self._lock:
            trade = self._trade_for(biz)
            if trade is None:
                return self._biz_error(key, "ACQ.TRADE_NOT_EXIST", "交易不存在")
            if trade.status != "WAIT_BUYER_PAY" and trade.status != "TRADE_CLOSED":
                return self._biz_error(key, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
            trade.status = "TRADE_CLOSED"
        return self._signed(key, {"code": "10000", "msg": "Success", "trade_no": trade.trade_no,
                                  "out_trade_no": trade.out_trade_no})

    # -- notifications ----------------------------------------------------------------------
    def _notify_refund(self, item: AlipayRefund) -> None:
        if self.refund_notify == "drop":
            return
        note = self.build_refund_notification(item.out_request_no)
        if not note.url:
            return
        item.notifications.append(note)
        if self.refund_notify == "hold":
            self.held_refund_notifications.append(note)
            return
        self.deliver(note)
        if self.refund_notify == "duplicate":
            self.deliver(self.build_refund_notification(item.out_request_no))

    def release_refund_notifications(self, *, reverse: bool = False) -> list[Any]:
        held, self.held_refund_notifications = self.held_refund_notifications, []
        for note in (reversed(held) if reverse else held):
            self.deliver(note)
        return held

    def build_refund_notification(self, out_request_no: str, *, refund_fee: str | None = None,
                                  notify_time: datetime | None = None, sign_with: Any = None,
                                  app_id: str | None = None) -> Any:
        from local.standins.alipay_pay import FormNotification

        item = self._refund_state()[out_request_no]
        trade = self.trades[item.out_trade_no]
        refunded = sum(_fen(r.amount) for r in self._refund_state().values() if r.trade_no == trade.trade_no)
        sent = (notify_time or datetime.now(timezone.utc)).astimezone(_BEIJING)
        params = {"notify_time": sent.strftime("%Y-%m-%d %H:%M:%S"), "notify_type": "trade_status_sync",
                  "notify_id": secrets.token_hex(16), "charset": "utf-8", "version": "1.0",
                  "app_id": app_id or self.app_id, "auth_app_id": app_id or self.app_id,
                  "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no, "out_biz_no": out_request_no,
                  "trade_status": trade.status, "total_amount": trade.total_amount,
                  "refund_fee": refund_fee or f"{refunded / 100:.2f}", "gmt_refund": item.gmt_refund_pay + ".000",
                  "seller_id": self.seller_id, "gmt_create": trade.gmt_create,
                  "gmt_payment": trade.gmt_payment or trade.gmt_create, **trade.buyer}
        unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        signer = sign_with or self._platform_key
        params["sign_type"] = "RSA2"
        params["sign"] = base64.b64encode(signer.sign(unsigned.encode("utf-8"), padding.PKCS1v15(),
                                                      hashes.SHA256())).decode()
        return FormNotification(url=self.refund_notify_url or trade.notify_url or "", params=params)

    def refund_control(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /__standin/refunds``: set knobs, release held notifications."""
        for knob in ("refund_outcome", "refund_fund_change", "refund_notify", "refund_notify_url"):
            if knob in body:
                setattr(self, knob, body[knob])
        released = self.release_refund_notifications(reverse=bool(body.get("reverse"))) if body.get("release") else []
        return {"released": len(released), "refunds": {k: v.amount for k, v in self._refund_state().items()}}

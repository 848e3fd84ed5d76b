"""The WeChat Pay stand-in's after-sale side: refunds, the refund query, the order close, and
refund notifications (mixed into local.standins.wechatpay_api.WeChatPayStandIn).

As WeChat Pay v3 does:

* ``POST /v3/refund/domestic/refunds`` {out_refund_no, transaction_id | out_trade_no, reason,
  notify_url, amount {refund, total, currency}}: the trade must be paid (``RESOURCE_NOT_EXISTS``
  if unknown, ``INVALID_REQUEST`` "订单未支付" if not paid), ``amount.total`` must be the trade's
  (``PARAM_ERROR``), the refunds of a trade never exceed its total (``INVALID_REQUEST``
  "申请退款金额超过订单可退金额"); the same out_refund_no again with the same amount answers the same
  refund (another amount: ``INVALID_REQUEST``). The answer is the refund, status ``PROCESSING``.
* ``GET /v3/refund/domestic/refunds/{out_refund_no}``: the refund, or 404 ``RESOURCE_NOT_EXISTS``.
* ``POST /v3/pay/transactions/out-trade-no/{no}/close`` {mchid}: 204; a paid order ``ORDERPAID``;
  unknown ``ORDER_NOT_EXIST``. A closed order cannot be paid.
* A refund settles (``settle_refunds()``, or at once when ``refund_settle="auto"``) to SUCCESS and
  WeChat Pay posts a ``REFUND.SUCCESS`` notification to the refund's notify_url, signed like any
  answer and with its resource AES-256-GCM encrypted (associated data ``refund``).

Knobs tests use (attributes, or ``POST /__standin/refunds``): ``refund_outcome`` "SUCCESS" or
"ABNORMAL" (the refund fails: REFUND.ABNORMAL); ``refund_notify`` "send", "drop" (no notification:
only a query tells), "duplicate" (sent twice) or "hold" (kept until ``release_refund_notifications``,
for reordering); ``refund_settle`` "manual" or "auto".
"""
from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

REFUNDS_PATH = "/v3/refund/domestic/refunds"
CLOSE_SUFFIX = "/close"
_CST = timezone(timedelta(hours=8))


@dataclass
class WeChatRefund:
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    amount: int
    total: int
    notify_url: str | None
    status: str = "PROCESSING"
    create_time: str = ""
    success_time: str | None = None
    notifications: list[Any] = field(default_factory=list)


class WeChatRefundsMixin:
    """Refund, refund query, close, refund notifications; needs the stand-in's trades, lock, signing."""

    refund_outcome = "SUCCESS"
    refund_notify = "send"
    refund_settle = "manual"

    def _refund_state(self) -> dict[str, WeChatRefund]:
        if not hasattr(self, "_refunds"):
            self._refunds: dict[str, WeChatRefund] = {}
            self.held_refund_notifications: list[Any] = []
        return self._refunds

    @property
    def refunds(self) -> dict[str, WeChatRefund]:
        return self._refund_state()

    def handle_after_sale(self, request) -> Any:
        if request.path == REFUNDS_PATH and request.method == "POST":
            return self._authorized(request) or self._refund(request)
        if request.path.startswith(REFUNDS_PATH + "/") and request.method == "GET":
            return self._authorized(request) or self._query_refund(request.path[len(REFUNDS_PATH) + 1:])
        if request.path.endswith(CLOSE_SUFFIX) and request.method == "POST" \
                and request.path.startswith("/v3/pay/transactions/out-trade-no/"):
            no = request.path[len("/v3/pay/transactions/out-trade-no/"):-len(CLOSE_SUFFIX)]
            return self._authorized(request) or self._close(no)
        return None

    # -- API ---------------------------------------------------------------------------------
    def _refund(self, request) -> Any:
        try:
            doc = request.json_object()
        except ValueError:
            return self._error(400, "PARAM_ERROR", "请求体不是合法的JSON")
        out_refund_no = str(doc.get("out_refund_no") or "")
        amount = doc.get("amount") or {}
        refund, total = amount.get("refund"), amount.get("total")
        if not out_refund_no or len(out_refund_no) > 64:
            return self._error(400, "PARAM_ERROR", "out_refund_no格式错误")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (refund, total)):
            return self._error(400, "PARAM_ERROR", "amount.refund与amount.total须为正整数（单位：分）")
        with self._lock:
            refunds = self._refund_state()
            trade = next((t for t in self.trades.values()
                          if (doc.get("transaction_id") and t.transaction_id == doc["transaction_id"])
                          or (doc.get("out_trade_no") and t.out_trade_no == doc["out_trade_no"])), None)
            if trade is None:
                return self._error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            if trade.state != "SUCCESS":
                return self._error(400, "INVALID_REQUEST", "订单未支付，不能退款")
            existing = refunds.get(out_refund_no)
            if existing is not None:
                if existing.amount != refund or existing.transaction_id != trade.transaction_id:
                    return self._error(400, "INVALID_REQUEST", "同一退款单号的退款金额与之前请求不一致")
                return self._signed(200, self._refund_doc(existing))
            if total != trade.amount:
                return self._error(400, "PARAM_ERROR", "订单金额与实际支付金额不一致")
            taken = sum(r.amount for r in refunds.values()
                        if r.transaction_id == trade.transaction_id and r.status != "ABNORMAL")
            if taken + refund > trade.amount:
                return self._error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
            item = WeChatRefund(out_refund_no=out_refund_no, refund_id="50" + secrets.token_hex(14),
                                out_trade_no=trade.out_trade_no, transaction_id=str(trade.transaction_id),
                                amount=refund, total=total, notify_url=doc.get("notify_url"),
                                create_time=datetime.now(_CST).replace(microsecond=0).isoformat())
            refunds[out_refund_no] = item
        answer = self._signed(200, self._refund_doc(item))
        if self.refund_settle == "auto":
            self.settle_refunds(out_refund_no)
        return answer

    def _query_refund(self, out_refund_no: str) -> Any:
        item = self._refund_state().get(out_refund_no)
        if item is None:
            return self._error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return self._signed(200, self._refund_doc(item))

    def _close(self, out_trade_no: str) -> Any:
        from local.standins import Reply

        with self._lock:
            trade = self.trades.get(out_trade_no)
            if trade is None:
                return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
            if trade.state == "SUCCESS":
                return self._error(400, "ORDERPAID", "订单已支付")
            trade.state = "CLOSED"
        return Reply(204, b"", {"Request-ID": str(uuid.uuid4())})

    def _refund_doc(self, item: WeChatRefund) -> dict[str, Any]:
        doc = {"refund_id": item.refund_id, "out_refund_no": item.out_refund_no,
               "transaction_id": item.transaction_id, "out_trade_no": item.out_trade_no, "channel": "ORIGINAL",
               "user_received_account": "支付用户零钱", "create_time": item.create_time, "status": item.status,
               "funds_account": "AVAILABLE",
               "amount": {"total": item.total, "refund": item.amount, "payer_total": item.total,
                          "payer_refund": item.amount, "settlement_refund": item.amount,
                          "settlement_total": item.total, "discount_refund": 0, "currency": "CNY"}}
        if item.success_time:
            doc["success_time"] = item.success_time
        return doc

    # -- settling and notifying -------------------------------------------------------------
    def settle_refunds(self, out_refund_no: str | None = None) -> list[Any]:
        """Processing refunds (or one) reach their outcome; their notifications go as the knobs say."""
        sent = []
        for item in list(self._refund_state().values()):
            if item.status != "PROCESSING" or (out_refund_no and item.out_refund_no != out_refund_no):
                continue
            item.status = self.refund_outcome
            if item.status == "SUCCESS":
                item.success_time = datetime.now(_CST).replace(microsecond=0).isoformat()
            sent += self._notify_refund(item)
        return sent

    def _notify_refund(self, item: WeChatRefund) -> list[Any]:
        if not item.notify_url or self.refund_notify == "drop":
            return []
        note = self.build_refund_notification(item.out_refund_no)
        item.notifications.append(note)
        if self.refund_notify == "hold":
            self.held_refund_notifications.append(note)
            return [note]
        self.deliver(note)
        if self.refund_notify == "duplicate":
            self.deliver(self.resend_refund(item.out_refund_no))
        return [note]

    def release_refund_notifications(self, *, reverse: bool = False) -> list[Any]:
        held, self.held_refund_notifications = self.held_refund_notifications, []
        for note in (reversed(held) if reverse else held):
            self.deliver(note)
        return held

    def resend_refund(self, out_refund_no: str) -> Any:
        """The refund's last notification again, re-signed now (WeChat Pay retries)."""
        item = self._refund_state()[out_refund_no]
        again = self._sign_notification(item.notify_url, item.notifications[-1].body)
        item.notifications.append(again)
        return again

    def build_refund_notification(self, out_refund_no: str, *, amount: int | None = None,
                                  timestamp: int | None = None, serial: str | None = None,
                                  apiv3_key: str | None = None, sign_with: Any = None) -> Any:
        """A REFUND.<status> notification for a settled refund; the keyword arguments forge or spoil it."""
        item = self._refund_state()[out_refund_no]
        resource = {"mchid": self.mchid, "out_trade_no": item.out_trade_no, "transaction_id": item.transaction_id,
                    "out_refund_no": item.out_refund_no, "refund_id": item.refund_id,
                    "refund_status": item.status, "user_received_account": "支付用户零钱",
                    "amount": {"total": item.total, "refund": amount if amount is not None else item.amount,
                               "payer_total": item.total, "payer_refund": item.amount}}
        if item.success_time:
            resource["success_time"] = item.success_time
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        nonce = secrets.token_urlsafe(9)[:12]
        ciphertext = AESGCM((apiv3_key or self.apiv3_key).encode()).encrypt(nonce.encode(), plaintext, b"refund")
        envelope = {"id": str(uuid.uuid4()), "create_time": datetime.now(_CST).replace(microsecond=0).isoformat(),
                    "resource_type": "encrypt-resource", "event_type": f"REFUND.{item.status}",
                    "summary": "退款成功" if item.status == "SUCCESS" else "退款异常",
                    "resource": {"original_type": "refund", "algorithm": "AEAD_AES_256_GCM",
                                 "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": "refund",
                                 "nonce": nonce}}
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self._sign_notification(item.notify_url, body, timestamp=timestamp, serial=serial, sign_with=sign_with)

    def refund_control(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /__standin/refunds``: set knobs, settle, release held notifications."""
        for knob in ("refund_outcome", "refund_notify", "refund_settle"):
            if knob in body:
                setattr(self, knob, str(body[knob]))
        settled = self.settle_refunds(body.get("out_refund_no")) if body.get("settle") else []
        released = self.release_refund_notifications(reverse=bool(body.get("reverse"))) if body.get("release") else []
        return {"settled": len(settled), "released": len(released),
                "refunds": {k: v.status for k, v in self._refund_state().items()}}

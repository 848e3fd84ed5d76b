"""Stand-in for the WeChat Pay API v3 (api.mch.weixin.qq.com), enough for
mini-program payments: JSAPI prepay, the order query, and the payment
notification a buyer's payment triggers.

It behaves like the real API:

* checks the merchant's request signature: ``Authorization:
  WECHATPAY2-SHA256-RSA2048 mchid="..",nonce_str="..",signature="..",
  timestamp="..",serial_no=".."`` over ``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nBODY\\n``
  with the merchant's public key (timestamp within 5 minutes, known serial);
* signs every answer with the platform key: headers ``Wechatpay-Timestamp``,
  ``-Nonce``, ``-Signature`` (over ``TIMESTAMP\\nNONCE\\nBODY\\n``), ``-Serial``
  (the platform public key id, ``PUB_KEY_ID_...``) and ``-Signature-Type``,
  which the `wechatpayv3` SDK verifies;
* a repeated prepay of the same ``out_trade_no`` with the same parameters gets
  the same ``prepay_id``; different parameters are refused (``INVALID_REQUEST``),
  a paid order answers ``ORDERPAID``.

Paying, as a buyer would in the mini-program: ``pay(out_trade_no)`` (or
``POST /__standin/pay {"out_trade_no": ...}``) marks the trade paid and sends
the notification to the ``notify_url`` of the prepay exactly as WeChat Pay does:
a JSON envelope whose ``resource`` is AES-256-GCM encrypted with the APIv3 key
(associated data ``transaction``, 12-character nonce), signed like an answer.
``resend(out_trade_no)`` sends the same notification again (WeChat retries);
``build_notification`` makes one with a chosen amount, timestamp or serial, for
tests of forged, stale and mismatched notifications.

Faults: ``busy`` (500 SYSTEM_ERROR), ``tamper`` (the answer's body is changed
after signing), ``slow`` (stall ``slow_seconds``).

Run alone: ``python -m local.standins.wechatpay_api --port 8103`` prints its
keys and ids (a fresh merchant key pair is made unless ``--merchant-public-key``).
"""
from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from local.loopback import UTF8_JSON_TYPE
from local.standins import (PaymentControls, Reply, Request, StandIn, base_arguments, generate_key_pair,
                            json_reply, run_standalone)
from local.standins.wechatpay_bills import WeChatBillsMixin
from local.standins.wechatpay_refunds import WeChatRefundsMixin

JSAPI_PATH = "/v3/pay/transactions/jsapi"
QUERY_PREFIX = "/v3/pay/transactions/out-trade-no/"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
MAX_SKEW_SECONDS = 300
_CST = timezone(timedelta(hours=8))
_AUTH = re.compile(r'(\w+)="([^"]*)"')
_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-*|]{6,32}$")

Sender = Callable[[str, dict[str, str], bytes], tuple[int, str]]


def http_sender(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """POST the notification over HTTP, as the provider does."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")
    except OSError as exc:
        return 0, f"unreachable: {exc}"


@dataclass
class Trade:
    out_trade_no: str
    prepay_id: str
    request: dict[str, Any]
    amount: int
    openid: str
    notify_url: str
    time_expire: datetime | None
    state: str = "NOTPAY"
    transaction_id: str | None = None
    success_time: str | None = None
    notifications: list["Notification"] = field(default_factory=list)


@dataclass
class Notification:
    url: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None
    reply: str | None = None

    @property
    def acknowledged(self) -> bool:
        if self.status is None or not 200 <= self.status < 300:
            return False
        try:
            return not self.reply or json.loads(self.reply).get("code", "SUCCESS") == "SUCCESS"
        except ValueError:
            return False


class WeChatPayStandIn(WeChatBillsMixin, WeChatRefundsMixin, PaymentControls, StandIn):
    NAME = "wechatpay-api"
    FAULTS = ("busy", "tamper", "slow")
    TRADE_ID = "transaction_id"

    def __init__(self, mchid: str, appid: str, merchant_public_key_pem: str, merchant_serial_no: str,
                 apiv3_key: str, port: int = 0, *, host: str = "127.0.0.1",
                 platform_private_key_pem: str | None = None, platform_public_key_id: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(port, host=host, clock=clock)
        if len(apiv3_key.encode()) != 32:
            raise ValueError("the APIv3 key is 32 bytes")
        self.mchid = mchid
        self.appid = appid
        self.merchant_serial_no = merchant_serial_no
        self.apiv3_key = apiv3_key
        self._merchant_key = serialization.load_pem_public_key(merchant_public_key_pem.encode())
        if platform_private_key_pem is None:
            platform_private_key_pem, _ = generate_key_pair()
        self._platform_key = serialization.load_pem_private_key(platform_private_key_pem.encode(), password=None)
        #: what the merchant configures as "the WeChat Pay public key" and its id
        self.platform_public_key_pem = self._platform_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.platform_public_key_id = platform_public_key_id or "PUB_KEY_ID_" + secrets.token_hex(16).upper()
        self.trades: dict[str, Trade] = {}
        self._lock = threading.Lock()
        #: how notifications travel; tests may deliver in process instead of over HTTP
        self.sender: Sender = http_sender

    @classmethod
    def with_fresh_merchant(cls, mchid: str = "1900000109", appid: str = "wx-local-app", port: int = 0,
                            **kwargs: Any) -> tuple["WeChatPayStandIn", dict[str, str]]:
        """A stand-in and the merchant side's configuration (the payments secret's "wechatpay" object)."""
        merchant_private, merchant_public = generate_key_pair()
        serial = secrets.token_hex(20).upper()
        apiv3_key = secrets.token_hex(16)
        standin = cls(mchid, appid, merchant_public, serial, apiv3_key, port, **kwargs)
        return standin, standin.merchant_config(merchant_private)

    def merchant_config(self, merchant_private_key_pem: str) -> dict[str, str]:
        return {"mchid": self.mchid, "appid": self.appid, "merchant_serial_no": self.merchant_serial_no,
                "merchant_private_key": merchant_private_key_pem, "apiv3_key": self.apiv3_key,
                "platform_public_key": self.platform_public_key_pem,
                "platform_public_key_id": self.platform_public_key_id}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "mchid": self.mchid, "appid": self.appid,
                "platform_public_key_id": self.platform_public_key_id,
                "platform_public_key_pem": self.platform_public_key_pem}

    # -- API --------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply | None:
        if request.path == JSAPI_PATH and request.method == "POST":
            return self._authorized(request) or self._prepay(request)
        if request.path.startswith(QUERY_PREFIX) and request.method == "GET":
            return self._authorized(request) or self._query(request)
        # the trade bill and its download (wechatpay_bills); refunds, refund query, close (wechatpay_refunds)
        return self.handle_bills(request) or self.handle_after_sale(request)

    def _authorized(self, request: Request) -> Reply | None:
        value = request.headers.get("authorization", "")
        scheme, _, rest = value.partition(" ")
        if scheme != SIGNATURE_TYPE:
            return self._error(401, "SIGN_ERROR", "签名错误：不支持的认证类型")
        fields = dict(_AUTH.findall(rest))
        if fields.get("mchid") != self.mchid:
            return self._error(401, "SIGN_ERROR", "签名错误：商户号不匹配")
        if fields.get("serial_no") != self.merchant_serial_no:
            return self._error(401, "SIGN_ERROR", "签名错误：证书序列号不存在")
        try:
            stamp = int(fields.get("timestamp", ""))
        except ValueError:
            return self._error(401, "SIGN_ERROR", "签名错误：时间戳无效")
        if abs(self.clock() - stamp) > MAX_SKEW_SECONDS:
            return self._error(401, "SIGN_ERROR", "签名错误：时间戳已过期")
        # the signature covers the query string as sent
        message = f"{request.method}\n{request.target}\n{stamp}\n{fields.get('nonce_str', '')}\n" \
                  f"{request.body.decode('utf-8')}\n"
        try:
            self._merchant_key.verify(base64.b64decode(fields.get("signature", "")), message.encode("utf-8"),
                                      padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return self._error(401, "SIGN_ERROR", "签名错误：验签失败")
        if self.take_fault("busy"):
            return self._error(500, "SYSTEM_ERROR", "系统错误")
        if self.take_fault("slow"):
            time.sleep(self.slow_seconds)
        return None

    def _prepay(self, request: Request) -> Reply:
        try:
            doc = request.json_object()
        except ValueError:
            return self._error(400, "PARAM_ERROR", "请求体不是合法的JSON")
        for name in ("appid", "mchid", "description", "out_trade_no", "notify_url", "amount", "payer"):
            if not doc.get(name):
                return self._error(400, "PARAM_ERROR", f"输入源“/body/{name}”映射到字段“{name}”必填性规则校验失败")
        if doc["appid"] != self.appid:
            return self._error(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        if doc["mchid"] != self.mchid:
            return self._error(400, "MCH_NOT_EXISTS", "商户号不存在")
        if not _TRADE_NO.match(str(doc["out_trade_no"])):
            return self._error(400, "PARAM_ERROR", "out_trade_no格式错误")
        total = (doc.get("amount") or {}).get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            return self._error(400, "PARAM_ERROR", "amount.total必须为正整数（单位：分）")
        openid = (doc.get("payer") or {}).get("openid")
        if not openid:
            return self._error(400, "PARAM_ERROR", "payer.openid必填")
        url = urlsplit(str(doc["notify_url"]))
        if url.scheme != "https" and url.hostname not in ("127.0.0.1", "localhost"):
            return self._error(400, "PARAM_ERROR", "notify_url须为https地址")
        expire = None
        if doc.get("time_expire"):
            try:
                expire = datetime.fromisoformat(str(doc["time_expire"]).replace("Z", "+00:00"))
            except ValueError:
                return self._error(400, "PARAM_ERROR", "time_expire格式错误")
        with self._lock:
            trade = self.trades.get(doc["out_trade_no"])
            if trade is not None:
                if trade.state == "SUCCESS":
                    return self._error(400, "ORDERPAID", "该订单已支付")
                if trade.request != doc:
                    return self._error(400, "INVALID_REQUEST", "201 商户订单号重复")
                return self._signed(200, {"prepay_id": trade.prepay_id})
            prepay_id = "wx" + datetime.now(_CST).strftime("%d%H%M%S") + secrets.token_hex(13)
            self.trades[doc["out_trade_no"]] = Trade(out_trade_no=doc["out_trade_no"], prepay_id=prepay_id,
                                                     request=doc, amount=total, openid=openid,
                                                     notify_url=str(doc["notify_url"]), time_expire=expire)
        return self._signed(200, {"prepay_id": prepay_id})

    def _query(self, request: Request) -> Reply:
        out_trade_no = request.path[len(QUERY_PREFIX):]
        with self._lock:
            trade = self.trades.get(out_trade_no)
        if trade is None:
            return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
        return self._signed(200, self._transaction(trade))

    # -- paying ---------------------------------------------------------------------------------
    def pay(self, out_trade_no: str, *, amount: int | None = None, deliver: bool = True,
            allow_expired: bool = False) -> Notification:
        """The buyer pays: the trade becomes SUCCESS and WeChat Pay notifies the merchant.

        `amount`: the buyer paid another total than the prepay's (a mismatch test); the trade, its
        notification, bill and refunds all say that total."""
        with self._lock:
            trade = self.trades.get(out_trade_no)
            if trade is None:
                raise LookupError(f"no prepay for {out_trade_no}")
            if trade.time_expire and not allow_expired and datetime.now(timezone.utc) > trade.time_expire:
                raise ValueError("the payment window of this trade has closed")
            if trade.state == "CLOSED":
                raise ValueError("the trade is closed")
            if trade.state != "SUCCESS":
                if amount is not None:      # the buyer paid another total: that is what WeChat Pay took
                    trade.amount = amount   # (its bill and refunds say so too, as its signed notice does)
                trade.state = "SUCCESS"
                trade.transaction_id = "4200" + datetime.now(_CST).strftime("%Y%m%d") + \
                    "".join(secrets.choice("0123456789") for _ in range(16))
                trade.success_time = datetime.now(_CST).replace(microsecond=0).isoformat()
        notification = self.build_notification(out_trade_no, amount=amount)
        trade.notifications.append(notification)
        if deliver:
            self.deliver(notification)
        return notification

    def resend(self, out_trade_no: str) -> Notification:
        """Send the trade's last notification again, re-signed now (WeChat Pay retries until acknowledged)."""
        trade = self.trades[out_trade_no]
        last = trade.notifications[-1]
        envelope = json.loads(last.body)
        again = self._sign_notification(trade.notify_url, json.dumps(envelope, ensure_ascii=False,
                                                                     separators=(",", ":")).encode("utf-8"))
        trade.notifications.append(again)
        self.deliver(again)
        return again

    def deliver(self, notification: Notification) -> Notification:
        notification.status, notification.reply = self.sender(notification.url, dict(notification.headers),
                                                              notification.body)
        return notification

    def build_notification(self, out_trade_no: str, *, amount: int | None = None, timestamp: int | None = None,
                           serial: str | None = None, apiv3_key: str | None = None,
                           sign_with: Any = None, tamper_body: bool = False) -> Notification:
        """A TRANSACTION.SUCCESS notification for a paid trade; the keyword arguments forge or spoil it."""
        trade = self.trades[out_trade_no]
        resource = self._transaction(trade)
        if amount is not None:
            resource["amount"] = {**resource["amount"], "total": amount, "payer_total": amount}
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        nonce = secrets.token_urlsafe(9)[:12]
        key = (apiv3_key or self.apiv3_key).encode("utf-8")
        ciphertext = AESGCM(key).encrypt(nonce.encode("utf-8"), plaintext, b"transaction")
        envelope = {
            "id": str(uuid.uuid4()),
            "create_time": datetime.now(_CST).replace(microsecond=0).isoformat(),
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": "transaction",
                         "nonce": nonce},
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        notification = self._sign_notification(trade.notify_url, body, timestamp=timestamp, serial=serial,
                                                sign_with=sign_with)
        if tamper_body:
            notification.body = body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCESS ")
        return notification

    def _sign_notification(self, url: str, body: bytes, *, timestamp: int | None = None, serial: str | None = None,
                           sign_with: Any = None) -> Notification:
        stamp = str(int(timestamp if timestamp is not None else self.clock()))
        nonce = secrets.token_hex(16).upper()
        signature = self._sign(f"{stamp}\n{nonce}\n{body.decode('utf-8')}\n", key=sign_with)
        headers = {"Content-Type": "application/json", "Wechatpay-Serial": serial or self.platform_public_key_id,
                   "Wechatpay-Signature": signature, "Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
                   "Wechatpay-Signature-Type": SIGNATURE_TYPE}
        return Notification(url=url, headers=headers, body=body)

    def _transaction(self, trade: Trade) -> dict[str, Any]:
        doc: dict[str, Any] = {"mchid": self.mchid, "appid": self.appid, "out_trade_no": trade.out_trade_no,
                               "trade_state": trade.state,
                               "trade_state_desc": "支付成功" if trade.state == "SUCCESS" else "订单未支付",
                               "payer": {"openid": trade.openid},
                               "amount": {"total": trade.amount, "currency": "CNY"}}
        if trade.state == "SUCCESS":
            doc.update({"transaction_id": trade.transaction_id, "trade_type": "JSAPI", "bank_type": "OTHERS",
                        "attach": "", "success_time": trade.success_time})
            doc["amount"].update({"payer_total": trade.amount, "payer_currency": "CNY"})
        return doc

    # -- signing -------------------------------------------------------------------------------
    def _sign(self, message: str, key: Any = None) -> str:
        signer = key or self._platform_key
        return base64.b64encode(signer.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()

    def _signed(self, status: int, payload: dict[str, Any]) -> Reply:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        stamp = str(int(self.clock()))
        nonce = secrets.token_hex(16).upper()
        signature = self._sign(f"{stamp}\n{nonce}\n{text}\n")
        if self.take_fault("tamper"):
            text = text + " "
        return Reply(status, text.encode("utf-8"), {
            "Content-Type": UTF8_JSON_TYPE, "Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature, "Wechatpay-Serial": self.platform_public_key_id,
            "Wechatpay-Signature-Type": SIGNATURE_TYPE, "Request-ID": str(uuid.uuid4())})

    def _error(self, status: int, code: str, message: str) -> Reply:
        # Errors are not signed (WeChat Pay signs successful answers); the SDK only verifies 2xx.
        return json_reply({"code": code, "message": message}, status)


def main(argv: list[str] | None = None) -> None:
    parser = base_arguments("WeChat Pay API v3 stand-in (JSAPI prepay, notifications)")
    parser.add_argument("--mchid", default="1900000109")
    parser.add_argument("--appid", default="wx-local-app")
    parser.add_argument("--merchant-public-key", metavar="FILE", help="merchant public key PEM (default: a fresh pair)")
    parser.add_argument("--merchant-serial", default=None)
    parser.add_argument("--apiv3-key", default=None)
    args = parser.parse_args(argv)
    if args.merchant_public_key:
        with open(args.merchant_public_key, encoding="utf-8") as fh:
            public = fh.read()
        standin = WeChatPayStandIn(args.mchid, args.appid, public, args.merchant_serial or "LOCALSERIAL",
                                   args.apiv3_key or secrets.token_hex(16), port=args.port, host=args.host)
        run_standalone(standin)
        return
    standin, merchant = WeChatPayStandIn.with_fresh_merchant(args.mchid, args.appid, port=args.port, host=args.host)
    print(json.dumps({"merchant_config": merchant}, ensure_ascii=False), flush=True)
    run_standalone(standin)


if __name__ == "__main__":
    main()

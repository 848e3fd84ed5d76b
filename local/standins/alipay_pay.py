"""Stand-in for the Alipay open-API gateway's payment side, enough for
mini-program payments: ``alipay.trade.create`` (product JSAPI_PAY), its
query, and the asynchronous notification a buyer's payment triggers.

It extends the login stand-in (local.standins.alipay_api.AlipayStandIn), so one
instance also answers ``alipay.system.oauth.token``; the same common checks
apply to every method (app id, RSA2 request signature with the app public key,
timestamp), and every answer is RSA2-signed with the platform key as Alipay
signs sync answers.

``alipay.trade.create`` checks ``biz_content`` like the real gateway: an
``out_trade_no``, a ``total_amount`` in yuan with at most two decimals (0.01
to 100000000), a ``subject``, and the buyer (``buyer_id`` 2088... or
``buyer_open_id``). The same ``out_trade_no`` with the same amount and buyer
gets the same ``trade_no``; with another, ``ACQ.TRADE_NO_DUPLICATE``; once
paid, ``ACQ.TRADE_HAS_SUCCESS``.

Paying, as a buyer would in the mini-program: ``pay(out_trade_no)`` (or
``POST /__standin/pay {"out_trade_no": ...}``) marks the trade paid and posts
the notification to the request's ``notify_url`` as Alipay does: a form
(``application/x-www-form-urlencoded``) with ``notify_type=trade_status_sync``,
``trade_status=TRADE_SUCCESS``, ``total_amount``..., signed RSA2 over every
parameter but ``sign`` and ``sign_type``, sorted, ``k=v`` joined with ``&``.
The merchant acknowledges with the text ``success``; ``resend`` sends it again.
"""
from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from local.standins import PaymentControls, Reply, Request, base_arguments, run_standalone
from local.standins.alipay_api import GATEWAY_PATH, AlipayStandIn, generate_key_pair, sign_string
from local.standins.alipay_bills import BILL_URL_METHOD, AlipayBillsMixin
from local.standins.alipay_refunds import AFTER_SALE_METHODS, AlipayRefundsMixin
from local.standins.wechatpay_api import Sender

CREATE_METHOD = "alipay.trade.create"
QUERY_METHOD = "alipay.trade.query"
PAY_METHODS = (CREATE_METHOD, QUERY_METHOD, BILL_URL_METHOD) + AFTER_SALE_METHODS
_BEIJING = timezone(timedelta(hours=8))


def form_sender(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    from local.standins.wechatpay_api import http_sender

    return http_sender(url, headers, body)


@dataclass
class AlipayTrade:
    out_trade_no: str
    trade_no: str
    total_amount: str
    subject: str
    buyer: dict[str, str]
    notify_url: str | None
    time_expire: datetime | None
    status: str = "WAIT_BUYER_PAY"
    gmt_create: str = ""
    gmt_payment: str | None = None
    notifications: list["FormNotification"] = field(default_factory=list)


@dataclass
class FormNotification:
    url: str
    params: dict[str, str]
    status: int | None = None
    reply: str | None = None

    @property
    def body(self) -> bytes:
        return urlencode(self.params).encode("utf-8")

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    @property
    def acknowledged(self) -> bool:
        return self.status == 200 and (self.reply or "").strip() == "success"


class AlipayPayStandIn(AlipayBillsMixin, AlipayRefundsMixin, PaymentControls, AlipayStandIn):
    NAME = "alipay-pay"

    def __init__(self, app_id: str, app_public_key_pem: str, port: int = 0, *, seller_id: str = "2088000000000001",
                 **kwargs: Any) -> None:
        super().__init__(app_id, app_public_key_pem, port, **kwargs)
        self.seller_id = seller_id
        self.trades: dict[str, AlipayTrade] = {}
        self._lock = threading.Lock()
        #: how notifications travel; tests may deliver in process instead of over HTTP
        self.sender: Sender = form_sender

    @classmethod
    def with_fresh_app(cls, app_id: str = "2021000000000000", port: int = 0,
                       **kwargs: Any) -> tuple["AlipayPayStandIn", dict[str, str]]:
        """A stand-in and the app side's configuration (the payments secret's "alipay" object)."""
        app_private, app_public = generate_key_pair()
        standin = cls(app_id, app_public, port, **kwargs)
        return standin, {"app_id": app_id, "app_private_key": app_private,
                         "alipay_public_key": standin.platform_public_key_pem, "seller_id": standin.seller_id}

    # -- gateway ----------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply | None:
        if request.path != GATEWAY_PATH or request.method not in ("GET", "POST"):
            return self.handle_bill_download(request) or super().handle(request)
        try:
            params = request.form()
        except UnicodeDecodeError:
            return self._error("40002", "Invalid Arguments", "isv.invalid-charset", "字符集错误")
        if params.get("method") not in PAY_METHODS:
            return super().handle(request)
        for name, sub_code in (("app_id", "isv.missing-app-id"), ("sign_type", "isv.missing-signature-type"),
                               ("sign", "isv.missing-signature"), ("timestamp", "isv.missing-timestamp"),
                               ("version", "isv.missing-version"), ("biz_content", "isv.missing-biz-content")):
            if not params.get(name):
                return self._error("40001", "Missing Required Arguments", sub_code, f"缺少{name}参数")
        if params["app_id"] != self.app_id:
            return self._error("40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数")
        if params["sign_type"] != "RSA2":
            return self._error("40002", "Invalid Arguments", "isv.invalid-signature-type", "无效的签名类型")
        if not self._verify_request(sign_string(params), params["sign"]):
            return self._error("40002", "Invalid Arguments", "isv.invalid-signature", "验签出错")
        try:
            datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S")
            biz = json.loads(params["biz_content"])
        except ValueError:
            return self._error("40002", "Invalid Arguments", "isv.invalid-parameter", "参数无效")
        if self.take_fault("busy"):
            return self._error("20000", "Service Currently Unavailable", "isp.unknow-error", "服务暂不可用")
        if params["method"] == CREATE_METHOD:
            return self._create(params, biz)
        if params["method"] in AFTER_SALE_METHODS:
            return self.handle_after_sale(params["method"], biz)   # refunds, refund query, close
        if params["method"] == BILL_URL_METHOD:
            return self._bill_url(biz)                              # the day's bill (alipay_bills)
        return self._query(biz)

    def _create(self, params: dict[str, str], biz: dict[str, Any]) -> Reply:
        key = "alipay_trade_create_response"
        out_trade_no = str(biz.get("out_trade_no") or "")
        if not out_trade_no or len(out_trade_no) > 64:
            return self._biz_error(key, "ACQ.INVALID_PARAMETER", "out_trade_no无效")
        amount = _amount(biz.get("total_amount"))
        if amount is None:
            return self._biz_error(key, "ACQ.INVALID_PARAMETER", "total_amount无效")
        if not biz.get("subject"):
            return self._biz_error(key, "ACQ.INVALID_PARAMETER", "subject不能为空")
        buyer = {k: str(biz[k]) for k in ("buyer_id", "buyer_open_id") if biz.get(k)}
        if not buyer:
            return self._biz_error(key, "ACQ.INVALID_PARAMETER", "买家信息不能为空")
        notify_url = params.get("notify_url")
        if notify_url:
            host = urlsplit(notify_url).hostname
            if urlsplit(notify_url).scheme != "https" and host not in ("127.0.0.1", "localhost"):
                return self._biz_error(key, "ACQ.INVALID_PARAMETER", "notify_url须为https地址")
        expire = None
        if biz.get("time_expire"):
            try:
                expire = datetime.strptime(str(biz["time_expire"]), "%Y-%m-%d %H:%M:%S").replace(tzinfo=_BEIJING)
            except ValueError:
                return self._biz_error(key, "ACQ.INVALID_PARAMETER", "time_expire格式错误")
        with self._lock:
            trade = self.trades.get(out_trade_no)
            if trade is not None:
                if trade.status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
                    return self._biz_error(key, "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
                if trade.total_amount != amount or trade.buyer != buyer:
                    return self._biz_error(key, "ACQ.TRADE_NO_DUPLICATE", "交易号重复")
            else:
                trade = AlipayTrade(out_trade_no=out_trade_no,
                                    trade_no=datetime.now(_BEIJING).strftime("%Y%m%d") + "2200" +
                                    "".join(secrets.choice("0123456789") for _ in range(16)),
                                    total_amount=amount, subject=str(biz["subject"]), buyer=buyer,
                                    notify_url=notify_url, time_expire=expire,
                                    gmt_create=datetime.now(_BEIJING).strftime("%Y-%m-%d %H:%M:%S"))
                self.trades[out_trade_no] = trade
        return self._signed(key, {"code": "10000", "msg": "Success", "out_trade_no": out_trade_no,
                                  "trade_no": trade.trade_no})

    def _query(self, biz: dict[str, Any]) -> Reply:
        key = "alipay_trade_query_response"
        trade = self.trades.get(str(biz.get("out_trade_no") or ""))
        if trade is None:
            return self._biz_error(key, "ACQ.TRADE_NOT_EXIST", "交易不存在")
        return self._signed(key, {"code": "10000", "msg": "Success", "out_trade_no": trade.out_trade_no,
                                  "trade_no": trade.trade_no, "trade_status": trade.status,
                                  "total_amount": trade.total_amount, **trade.buyer})

    def _biz_error(self, key: str, sub_code: str, sub_msg: str) -> Reply:
        return self._signed(key, {"code": "40004", "msg": "Business Failed", "sub_code": sub_code,
                                  "sub_msg": sub_msg})

    # -- paying -----------------------------------------------------------------------------
    def pay(self, out_trade_no: str, *, amount: str | None = None, deliver: bool = True,
            allow_expired: bool = False) -> FormNotification:
        """The buyer pays: the trade becomes TRADE_SUCCESS and Alipay notifies the merchant.

        `amount` (yuan text) reports another total than the trade's (a mismatch test)."""
        with self._lock:
            trade = self.trades.get(out_trade_no)
            if trade is None:
                raise LookupError(f"no trade for {out_trade_no}")
            if not trade.notify_url:
                raise ValueError("the trade was created without notify_url")
            if trade.time_expire and not allow_expired and datetime.now(timezone.utc) > trade.time_expire:
                raise ValueError("the trade has expired")
            if trade.status == "TRADE_CLOSED":
                raise ValueError("the trade is closed")
            if trade.status == "WAIT_BUYER_PAY":
                trade.status = "TRADE_SUCCESS"
                trade.gmt_payment = datetime.now(_BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        notification = self.build_notification(out_trade_no, amount=amount)
        trade.notifications.append(notification)
        if deliver:
            self.deliver(notification)
        return notification

    def resend(self, out_trade_no: str) -> FormNotification:
        trade = self.trades[out_trade_no]
        again = FormNotification(url=trade.notify_url or "", params=dict(trade.notifications[-1].params))
        trade.notifications.append(again)
        return self.deliver(again)

    def deliver(self, notification: FormNotification) -> FormNotification:
        notification.status, notification.reply = self.sender(notification.url, notification.headers,
                                                              notification.body)
        return notification

    def build_notification(self, out_trade_no: str, *, amount: str | None = None, notify_time: datetime | None = None,
                           sign_with: Any = None, app_id: str | None = None) -> FormNotification:
        trade = self.trades[out_trade_no]
        total = amount or trade.total_amount
        sent = (notify_time or datetime.now(timezone.utc)).astimezone(_BEIJING)
        params = {
            "notify_time": sent.strftime("%Y-%m-%d %H:%M:%S"), "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16), "charset": "utf-8", "version": "1.0",
            "app_id": app_id or self.app_id, "auth_app_id": app_id or self.app_id,
            "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no, "trade_status": trade.status,
            "total_amount": total, "receipt_amount": total, "buyer_pay_amount": total, "invoice_amount": total,
            "point_amount": "0.00", "subject": trade.subject, "seller_id": self.seller_id,
            "gmt_create": trade.gmt_create, "gmt_payment": trade.gmt_payment or trade.gmt_create,
            **trade.buyer,
        }
        unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        signer = sign_with or self._platform_key
        signature = signer.sign(unsigned.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        params["sign_type"] = "RSA2"
        params["sign"] = base64.b64encode(signature).decode()
        return FormNotification(url=trade.notify_url or "", params=params)


def _amount(value: Any) -> str | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount < Decimal("0.01") or amount > Decimal("100000000") \
            or amount != amount.quantize(Decimal("0.01")):
        return None
    return f"{amount:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = base_arguments("Alipay gateway stand-in for payments (alipay.trade.create, notifications)")
    parser.add_argument("--app-id", default="2021000000000000")
    args = parser.parse_args(argv)
    standin, app = AlipayPayStandIn.with_fresh_app(args.app_id, port=args.port, host=args.host)
    print(json.dumps({"app_config": app}, ensure_ascii=False), flush=True)
    run_standalone(standin)


if __name__ == "__main__":
    main()

"""Alipay through `python-alipay-sdk`: mini-program trade create (alipay.trade.create,
product JSAPI_PAY) and RSA2-verified asynchronous notifications.

The SDK builds and signs the request (RSA2 over the sorted k=v string) and
verifies the signed answers and notifications with the Alipay public key. As
for the login exchange (livecommerce.identity.providers), the transport is
ours: a POST with a timeout, and the timestamp in Beijing time as the gateway
documents (the SDK uses the host's local time, UTC on Lambda).
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from livecommerce.orders import yuan_text
from livecommerce.payments.credentials import AlipayConfig
from livecommerce.payments.errors import NotificationRejected, ProviderError

ALIPAY = "alipay"
CREATE_METHOD = "alipay.trade.create"
CREATE_RESPONSE = "alipay_trade_create_response"
BEIJING = timezone(timedelta(hours=8))
RETRYABLE = {"20000", "ACQ.SYSTEM_ERROR", "isp.unknow-error", "aop.ACQ.SYSTEM_ERROR"}
MISCONFIGURED = {"isv.invalid-signature", "isv.invalid-app-id", "isv.missing-signature", "isv.insufficient-isv-permissions"}


def _key(text: str) -> str | bytes:
    if "-----BEGIN" in text:
        return text.replace("\\n", "\n")
    return base64.b64decode("".join(text.split()))


@lru_cache(maxsize=4)
def _client(cfg: AlipayConfig):
    from alipay import AliPay  # deferred: pycryptodome

    return AliPay(appid=cfg.app_id, app_notify_url=None, app_private_key_string=_key(cfg.app_private_key),
                  alipay_public_key_string=_key(cfg.alipay_public_key), sign_type="RSA2")


def beijing_time(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def trade_create(cfg: AlipayConfig, *, order_id: str, subject: str, amount: int, buyer: str, time_expire: datetime,
                 notify_url: str, gateway: str, timeout: float) -> str:
    """The Alipay trade_no the mini-program passes to my.tradePay."""
    import requests  # deferred: requests, paid only on a provider call (payments cold start)

    client = _client(cfg)
    biz: dict[str, Any] = {"out_trade_no": order_id, "total_amount": yuan_text(amount), "subject": subject[:256],
                           "product_code": "JSAPI_PAY", "op_app_id": cfg.app_id,
                           "time_expire": beijing_time(time_expire)}
    biz["buyer_id" if buyer.startswith("2088") and buyer.isdigit() else "buyer_open_id"] = buyer
    data = client.build_body(CREATE_METHOD, biz, notify_url=notify_url,
                             timestamp=beijing_time(datetime.now(timezone.utc)))
    form = client.sign_data(data)
    try:
        response = requests.post(gateway, data=form.encode("utf-8"), timeout=(min(3.0, timeout), timeout),
                                 headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise ProviderError(ALIPAY, "network_error", type(exc).__name__, retryable=True) from None
    if response.status_code != 200:
        raise ProviderError(ALIPAY, f"http-{response.status_code}", "gateway error",
                            retryable=response.status_code >= 500 or response.status_code == 429)
    raw = response.content.decode("utf-8", "replace")
    try:
        doc = json.loads(raw)
    except ValueError:
        raise ProviderError(ALIPAY, "bad_response", "answer is not JSON", retryable=True) from None
    node = doc.get("error_response") or doc.get(CREATE_RESPONSE)
    if not isinstance(node, dict):
        raise ProviderError(ALIPAY, "bad_response", f"answer has no {CREATE_RESPONSE}")
    if str(node.get("code")) != "10000":
        code = str(node.get("sub_code") or node.get("code") or "unknown")
        raise ProviderError(ALIPAY, code, str(node.get("sub_msg") or node.get("msg") or "")[:200],
                            retryable=code in RETRYABLE or str(node.get("code")) == "20000",
                            misconfigured=code in MISCONFIGURED, already_paid=code == "ACQ.TRADE_HAS_SUCCESS")
    from alipay import AliPayValidationError  # deferred: alipay (pycryptodome)

    try:
        verified = client._verify_and_return_sync_response(raw, CREATE_RESPONSE)
    except (AliPayValidationError, ValueError, TypeError, KeyError):
        raise ProviderError(ALIPAY, "bad_signature", "answer does not verify with the Alipay public key",
                            misconfigured=True) from None
    trade_no = verified.get("trade_no")
    if not trade_no or verified.get("out_trade_no") != order_id:
        raise ProviderError(ALIPAY, "bad_response", "answer is for another order or has no trade_no")
    return str(trade_no)


def verify_notification(cfg: AlipayConfig, params: dict[str, str], *, now: datetime,
                        max_age_seconds: int) -> dict[str, str]:
    """The notification's parameters once its RSA2 signature verifies, or NotificationRejected."""
    params = dict(params)
    signature = params.pop("sign", "")
    if not signature:
        raise NotificationRejected("missing_signature")
    if params.get("sign_type") != "RSA2":
        raise NotificationRejected("unsupported_signature_type")
    if params.get("app_id") != cfg.app_id:
        raise NotificationRejected("foreign_app")
    for name in ("notify_id", "notify_time", "out_trade_no", "trade_no", "trade_status", "total_amount"):
        if not params.get(name):
            raise NotificationRejected(f"missing_{name}")
    try:
        ok = _client(cfg).verify(dict(params), signature)   # all but sign and sign_type, sorted k=v
    except Exception:  # noqa: BLE001 - a malformed signature is a failed one
        ok = False
    if not ok:
        raise NotificationRejected("bad_signature")
    try:
        sent = datetime.strptime(params["notify_time"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        raise NotificationRejected("bad_notify_time") from None
    if abs((now - sent).total_seconds()) > max_age_seconds:
        raise NotificationRejected("stale_notify_time")
    if cfg.seller_id and params.get("seller_id") and params["seller_id"] != cfg.seller_id:
        raise NotificationRejected("foreign_seller")
    params.pop("sign_type", None)
    return params


# -- after the sale: refunds, the trade query and close --------------------------------------
REFUND_METHOD, REFUND_QUERY_METHOD = "alipay.trade.refund", "alipay.trade.fastpay.refund.query"
QUERY_METHOD, CLOSE_METHOD = "alipay.trade.query", "alipay.trade.close"


def _response_key(method: str) -> str:
    return method.replace(".", "_") + "_response"


def _call(cfg: AlipayConfig, method: str, biz: dict[str, Any], *, gateway: str, timeout: float,
          notify_url: str | None = None) -> tuple[str, dict[str, Any]]:
    """("10000", the verified answer) or (the business refusal's sub_code, its unverified answer);
    ProviderError for a network, gateway or signature failure and for a system refusal."""
    import requests  # deferred: requests, paid only on a provider call (payments cold start)
    from alipay import AliPayValidationError  # deferred: alipay (pycryptodome)

    client = _client(cfg)
    key = _response_key(method)
    extra = {"notify_url": notify_url} if notify_url else {}
    data = client.build_body(method, biz, timestamp=beijing_time(datetime.now(timezone.utc)), **extra)
    try:
        response = requests.post(gateway, data=client.sign_data(data).encode("utf-8"),
                                 timeout=(min(3.0, timeout), timeout), allow_redirects=False,
                                 headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
    except requests.RequestException as exc:
        raise ProviderError(ALIPAY, "network_error", type(exc).__name__, retryable=True) from None
    if response.status_code != 200:
        raise ProviderError(ALIPAY, f"http-{response.status_code}", "gateway error",
                            retryable=response.status_code >= 500 or response.status_code == 429)
    raw = response.content.decode("utf-8", "replace")
    try:
        doc = json.loads(raw)
    except ValueError:
        raise ProviderError(ALIPAY, "bad_response", "answer is not JSON", retryable=True) from None
    node = doc.get("error_response") or doc.get(key)
    if not isinstance(node, dict):
        raise ProviderError(ALIPAY, "bad_response", f"answer has no {key}")
    code = str(node.get("code"))
    if code != "10000":
        sub_code = str(node.get("sub_code") or code or "unknown")
        if code == "40004":              # a business refusal: the caller decides what it means
            return sub_code, node
        raise ProviderError(ALIPAY, sub_code, str(node.get("sub_msg") or node.get("msg") or "")[:200],
                            retryable=sub_code in RETRYABLE or code == "20000", misconfigured=sub_code in MISCONFIGURED)
    try:
        verified = client._verify_and_return_sync_response(raw, key)
    except (AliPayValidationError, ValueError, TypeError, KeyError):
        raise ProviderError(ALIPAY, "bad_signature", "answer does not verify with the Alipay public key",
                            misconfigured=True) from None
    return "10000", verified


def refund(cfg: AlipayConfig, *, out_trade_no: str, trade_no: str, out_request_no: str, amount: int, reason: str,
           gateway: str, timeout: float) -> dict[str, Any]:
    """alipay.trade.refund (out_request_no identifies a partial refund; the same one again is the same
    refund). The verified answer: fund_change "Y" when the money moved now. ProviderError on refusal."""
    code, node = _call(cfg, REFUND_METHOD, {"out_trade_no": out_trade_no, "trade_no": trade_no,
                                            "refund_amount": yuan_text(amount), "out_request_no": out_request_no,
                                            "refund_reason": reason[:256]}, gateway=gateway, timeout=timeout)
    if code != "10000":
        raise ProviderError(ALIPAY, code, str(node.get("sub_msg") or "")[:200],
                            retryable=code in RETRYABLE or code == "ACQ.SYSTEM_ERROR")
    if node.get("out_trade_no") not in (None, out_trade_no) or node.get("trade_no") not in (None, trade_no):
        raise ProviderError(ALIPAY, "bad_response", "answer is for another trade")
    return node


def query_refund(cfg: AlipayConfig, *, out_trade_no: str, trade_no: str, out_request_no: str, gateway: str,
                 timeout: float) -> dict[str, Any] | None:
    """alipay.trade.fastpay.refund.query: the refund (refund_amount, refund_status REFUND_SUCCESS,
    gmt_refund_pay), or None when Alipay has no refund by that out_request_no."""
    code, node = _call(cfg, REFUND_QUERY_METHOD, {"out_trade_no": out_trade_no, "trade_no": trade_no,
                                                  "out_request_no": out_request_no,
                                                  "query_options": ["gmt_refund_pay"]},
                       gateway=gateway, timeout=timeout)
    if code != "10000":
        if code == "ACQ.TRADE_NOT_EXIST":
            return None
        raise ProviderError(ALIPAY, code, str(node.get("sub_msg") or "")[:200], retryable=code in RETRYABLE)
    if not node.get("refund_amount") or node.get("out_request_no") not in (None, out_request_no):
        return None                      # Alipay answers 10000 without a refund when none was made
    return node


def query_trade(cfg: AlipayConfig, *, out_trade_no: str, gateway: str, timeout: float) -> dict[str, Any] | None:
    """alipay.trade.query: the trade (trade_status WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_CLOSED, ...), or None."""
    code, node = _call(cfg, QUERY_METHOD, {"out_trade_no": out_trade_no}, gateway=gateway, timeout=timeout)
    if code != "10000":
        if code == "ACQ.TRADE_NOT_EXIST":
            return None
        raise ProviderError(ALIPAY, code, str(node.get("sub_msg") or "")[:200], retryable=code in RETRYABLE)
    if node.get("out_trade_no") != out_trade_no:
        raise ProviderError(ALIPAY, "bad_response", "answer is for another trade")
    return node


def close_trade(cfg: AlipayConfig, *, out_trade_no: str, gateway: str, timeout: float) -> str:
    """alipay.trade.close: "closed", "paid" (ACQ.TRADE_STATUS_ERROR on a paid trade: the caller queries
    it) or "unknown" (no such trade: nothing can be paid)."""
    code, node = _call(cfg, CLOSE_METHOD, {"out_trade_no": out_trade_no}, gateway=gateway, timeout=timeout)
    if code == "10000":
        return "closed"
    if code == "ACQ.TRADE_NOT_EXIST":
        return "unknown"
    if code == "ACQ.TRADE_STATUS_ERROR":
        return "paid"
    raise ProviderError(ALIPAY, code, str(node.get("sub_msg") or "")[:200], retryable=code in RETRYABLE)


def verify_refund_notification(cfg: AlipayConfig, params: dict[str, str], *, now: datetime,
                               max_age_seconds: int) -> dict[str, str]:
    """A refund's asynchronous notification (trade_status_sync carrying out_biz_no, refund_fee and
    gmt_refund), checked as a payment notification is; NotificationRejected otherwise."""
    for name in ("out_biz_no", "refund_fee"):
        if not params.get(name):
            raise NotificationRejected(f"missing_{name}")
    return verify_notification(cfg, params, now=now, max_age_seconds=max_age_seconds)


# -- reconciliation: the daily bill ----------------------------------------------------------
BILL_URL_METHOD = "alipay.data.dataservice.bill.downloadurl.query"
BILL_NOT_READY = {"isp.bill_not_exist"}
MAX_BILL_BYTES = 200 * 1024 * 1024


def trade_bill(cfg: AlipayConfig, *, bill_date: str, gateway: str, timeout: float) -> bytes:
    """The day's trade bill: alipay.data.dataservice.bill.downloadurl.query (bill_type trade), then its
    bill_download_url (a short-lived link, no signature of its own): the zip of GBK CSV files.
    ProviderError with Alipay's sub_code (isp.bill_not_exist: no bill for that day yet) otherwise."""
    import requests  # deferred: requests, paid only on a provider call

    code, node = _call(cfg, BILL_URL_METHOD, {"bill_type": "trade", "bill_date": bill_date},
                       gateway=gateway, timeout=timeout)
    if code != "10000":
        raise ProviderError(ALIPAY, code, str(node.get("sub_msg") or "")[:200], retryable=code in RETRYABLE)
    url = str(node.get("bill_download_url") or "")
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ProviderError(ALIPAY, "bad_response", "the answer has no usable bill_download_url")
    try:
        with requests.get(url, timeout=(min(3.0, timeout), timeout), stream=True, allow_redirects=False) as resp:
            if resp.status_code != 200:
                raise ProviderError(ALIPAY, f"http-{resp.status_code}", "bill download refused",
                                    retryable=resp.status_code >= 500)
            data = bytearray()
            for chunk in resp.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_BILL_BYTES:
                    raise ProviderError(ALIPAY, "bill_too_large", f"the bill is over {MAX_BILL_BYTES} bytes")
    except requests.RequestException as exc:
        raise ProviderError(ALIPAY, "network_error", type(exc).__name__, retryable=True) from None
    return bytes(data)

"""WeChat Pay API v3 through the `wechatpayv3` SDK: JSAPI (mini-program) prepay,
the parameters for wx.requestPayment, and verified, decrypted notifications.

The SDK signs requests (merchant key), verifies answers and notifications with
the WeChat Pay platform public key (the "微信支付公钥" mode: a public key and its
id, no platform-certificate download), decrypts AES-256-GCM resources with the
APIv3 key and signs the mini-program's paySign. Checks the SDK leaves to us and
done here: the serial must be our platform key id (an unknown serial would make
the SDK go and download certificates), the timestamp within 5 minutes, the
merchant and app ids of the decrypted resource ours.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import secrets
import time
import zlib
from functools import lru_cache
from typing import Any

from livecommerce.payments.credentials import WeChatPayConfig
from livecommerce.payments.errors import NotificationRejected, ProviderError

WECHAT = "wechat"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
RETRYABLE = {"SYSTEM_ERROR", "FREQUENCY_LIMITED", "BANK_ERROR"}
MISCONFIGURED = {"SIGN_ERROR", "MCH_NOT_EXISTS", "APPID_MCHID_NOT_MATCH", "NO_AUTH", "INVALID_REQUEST_SIGNATURE"}


@lru_cache(maxsize=4)
def _client(cfg: WeChatPayConfig, api_base: str, timeout: float):
    from wechatpayv3 import WeChatPay, WeChatPayType  # deferred: requests + cryptography

    client = WeChatPay(wechatpay_type=WeChatPayType.MINIPROG, mchid=cfg.mchid,
                       private_key=cfg.merchant_private_key, cert_serial_no=cfg.merchant_serial_no,
                       appid=cfg.appid, apiv3_key=cfg.apiv3_key, notify_url=None,
                       public_key=cfg.platform_public_key, public_key_id=cfg.platform_public_key_id,
                       timeout=(min(3.0, timeout), timeout))
    # The SDK has no setting for its base URL; tests and the local stage point it at the stand-in.
    client._core._gate_way = api_base.rstrip("/")
    return client


def jsapi_prepay(cfg: WeChatPayConfig, *, order_id: str, description: str, amount: int, openid: str,
                 time_expire: str, notify_url: str, api_base: str, timeout: float) -> tuple[str, dict[str, str]]:
    """(prepay_id, wx.requestPayment parameters)."""
    import requests  # deferred: requests, paid only on a provider call (payments cold start)
    from wechatpayv3 import WeChatPayType  # deferred: wechatpayv3 (requests + cryptography)

    client = _client(cfg, api_base, timeout)
    try:
        status, message = client.pay(description=description[:127], out_trade_no=order_id,
                                     amount={"total": amount, "currency": "CNY"}, payer={"openid": openid},
                                     time_expire=time_expire, notify_url=notify_url, pay_type=WeChatPayType.JSAPI)
    except requests.RequestException as exc:
        raise ProviderError(WECHAT, "network_error", type(exc).__name__, retryable=True) from None
    except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exception for a bad answer signature
        if "verify the signature" in str(exc):
            raise ProviderError(WECHAT, "bad_signature", "answer does not verify with the platform key",
                                misconfigured=True) from None
        raise
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    try:
        doc = json.loads(text) if text else {}
    except ValueError:
        doc = {}
    if status == 200 and doc.get("prepay_id"):
        prepay_id = str(doc["prepay_id"])
        params = {"appId": cfg.appid, "timeStamp": str(int(time.time())), "nonceStr": secrets.token_hex(16),
                  "package": f"prepay_id={prepay_id}", "signType": "RSA"}
        params["paySign"] = client.sign([params["appId"], params["timeStamp"], params["nonceStr"], params["package"]])
        return prepay_id, params
    code = str(doc.get("code") or f"http-{status}")
    msg = str(doc.get("message") or "")[:200]
    raise ProviderError(WECHAT, code, msg, retryable=code in RETRYABLE or status >= 500 or status == 429,
                        misconfigured=code in MISCONFIGURED or status in (401, 403), already_paid=code == "ORDERPAID")


def verify_notification(cfg: WeChatPayConfig, headers: dict[str, str], body: str, *, now: float,
                        max_age_seconds: int, api_base: str, timeout: float,
                        with_appid: bool = True) -> dict[str, Any]:
    """The notification with its resource decrypted, or NotificationRejected. `with_appid`: the
    resource names our app id too (payment notifications do; refund notifications name the merchant only)."""
    h = {k.lower(): v for k, v in (headers or {}).items()}
    serial = h.get("wechatpay-serial", "")
    signature = h.get("wechatpay-signature", "")
    timestamp = h.get("wechatpay-timestamp", "")
    nonce = h.get("wechatpay-nonce", "")
    signature_type = h.get("wechatpay-signature-type") or SIGNATURE_TYPE
    if not (serial and signature and timestamp and nonce and body):
        raise NotificationRejected("missing_signature_headers")
    if signature_type != SIGNATURE_TYPE:
        raise NotificationRejected("unsupported_signature_type")
    if serial != cfg.platform_public_key_id:
        raise NotificationRejected("unknown_serial")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise NotificationRejected("bad_timestamp") from None
    if abs(now - sent_at) > max_age_seconds:
        raise NotificationRejected("stale_timestamp")
    canonical = {"Wechatpay-Signature": signature, "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
                 "Wechatpay-Serial": serial, "Wechatpay-Signature-Type": signature_type}
    client = _client(cfg, api_base, timeout)
    try:
        result = client.callback(canonical, body)   # signature over timestamp\nnonce\nbody\n, then AES-256-GCM
    except Exception:  # noqa: BLE001 - malformed JSON or resource: not trusted either way
        raise NotificationRejected("malformed") from None
    if not result or not isinstance(result.get("resource"), dict):
        raise NotificationRejected("bad_signature_or_ciphertext")
    resource = result["resource"]
    if str(resource.get("mchid")) != cfg.mchid or (with_appid and str(resource.get("appid")) != cfg.appid):
        raise NotificationRejected("foreign_merchant")
    return result


# -- after the sale: refunds, the order query and close ------------------------------------

def _request(call) -> tuple[int, dict[str, Any]]:
    """(HTTP status, answer JSON) of one SDK call; ProviderError for a network failure or an answer
    that does not verify with the platform key."""
    import requests  # deferred: requests, paid only on a provider call (payments cold start)

    try:
        status, message = call()
    except requests.RequestException as exc:
        raise ProviderError(WECHAT, "network_error", type(exc).__name__, retryable=True) from None
    except Exception as exc:  # noqa: BLE001 - the SDK raises bare Exception for a bad answer signature
        if "verify the signature" in str(exc):
            raise ProviderError(WECHAT, "bad_signature", "answer does not verify with the platform key",
                                misconfigured=True) from None
        raise
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message or "")
    try:
        doc = json.loads(text) if text else {}
    except ValueError:
        doc = {}
    return int(status), doc if isinstance(doc, dict) else {}


def _refused(status: int, doc: dict[str, Any]) -> ProviderError:
    code = str(doc.get("code") or f"http-{status}")
    return ProviderError(WECHAT, code, str(doc.get("message") or "")[:200],
                         retryable=code in RETRYABLE or status >= 500 or status == 429,
                         misconfigured=code in MISCONFIGURED or status in (401, 403))


def refund(cfg: WeChatPayConfig, *, out_refund_no: str, transaction_id: str, amount: int, total: int,
           reason: str, notify_url: str, api_base: str, timeout: float) -> dict[str, Any]:
    """POST /v3/refund/domestic/refunds (full or partial): the refund as WeChat Pay answers it
    (refund_id, out_refund_no, status SUCCESS / PROCESSING / ABNORMAL / CLOSED, amount...).
    The same out_refund_no again answers the same refund: a retry cannot refund twice."""
    client = _client(cfg, api_base, timeout)
    status, doc = _request(lambda: client.refund(
        out_refund_no=out_refund_no, transaction_id=transaction_id, reason=reason[:80], notify_url=notify_url,
        amount={"refund": amount, "total": total, "currency": "CNY"}))
    if status == 200 and doc.get("out_refund_no") == out_refund_no:
        return doc
    raise _refused(status, doc)


def query_refund(cfg: WeChatPayConfig, *, out_refund_no: str, api_base: str, timeout: float) -> dict[str, Any] | None:
    """GET /v3/refund/domestic/refunds/{out_refund_no}: the refund, or None if WeChat Pay has none."""
    client = _client(cfg, api_base, timeout)
    status, doc = _request(lambda: client.query_refund(out_refund_no=out_refund_no))
    if status == 200 and doc.get("out_refund_no") == out_refund_no:
        return doc
    if status == 404 or doc.get("code") == "RESOURCE_NOT_EXISTS":
        return None
    raise _refused(status, doc)


def query_trade(cfg: WeChatPayConfig, *, out_trade_no: str, api_base: str, timeout: float) -> dict[str, Any] | None:
    """GET /v3/pay/transactions/out-trade-no/{out_trade_no}: the transaction (trade_state SUCCESS,
    NOTPAY, CLOSED, ...), or None if WeChat Pay has no such order."""
    client = _client(cfg, api_base, timeout)
    status, doc = _request(lambda: client.query(out_trade_no=out_trade_no))
    if status == 200 and doc.get("out_trade_no") == out_trade_no:
        if str(doc.get("mchid")) != cfg.mchid:
            raise ProviderError(WECHAT, "bad_response", "answer is for another merchant")
        return doc
    if status == 404 or doc.get("code") == "ORDER_NOT_EXIST":
        return None
    raise _refused(status, doc)


def close_trade(cfg: WeChatPayConfig, *, out_trade_no: str, api_base: str, timeout: float) -> str:
    """POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close: "closed" (204: it cannot be paid
    any more), "paid" (ORDERPAID: it was paid first) or "unknown" (no such order)."""
    client = _client(cfg, api_base, timeout)
    status, doc = _request(lambda: client.close(out_trade_no=out_trade_no))
    if status in (200, 204) or doc.get("code") == "ORDER_CLOSED":
        return "closed"
    if doc.get("code") == "ORDERPAID":
        return "paid"
    if status == 404 or doc.get("code") == "ORDER_NOT_EXIST":
        return "unknown"
    raise _refused(status, doc)


# -- reconciliation: the daily trade bill ----------------------------------------------------
MAX_BILL_BYTES = 200 * 1024 * 1024
HASHES = {"SHA1": "sha1", "SHA256": "sha256"}


def trade_bill(cfg: WeChatPayConfig, *, bill_date: str, api_base: str, timeout: float) -> bytes:
    """The day's trade bill (bill_type ALL): GET /v3/bill/tradebill?bill_date=..&tar_type=GZIP, then its
    download_url (signed like any call; the file itself is not signed), gunzipped, checked against the
    answer's hash_value (the digest of the uncompressed bill). ProviderError with WeChat Pay's code
    (NO_STATEMENT_EXIST: no bill for that day, STATEMENT_CREATING: not ready yet) or bill_hash_mismatch."""
    client = _client(cfg, api_base, timeout)
    status, doc = _request(lambda: client.trade_bill(bill_date=bill_date, bill_type="ALL", tar_type="GZIP"))
    if status != 200 or not doc.get("download_url"):
        raise _refused(status, doc)
    algorithm = HASHES.get(str(doc.get("hash_type") or "").upper())
    if algorithm is None or not doc.get("hash_value"):
        raise ProviderError(WECHAT, "bad_response", "the bill answer names no known hash")
    import requests  # deferred: requests, paid only on a provider call

    try:
        status, content = client.download_bill(str(doc["download_url"]))
    except requests.RequestException as exc:
        raise ProviderError(WECHAT, "network_error", type(exc).__name__, retryable=True) from None
    if status != 200:
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content or "")
        try:
            refusal = json.loads(text)
        except ValueError:
            refusal = {}
        raise _refused(status, refusal if isinstance(refusal, dict) else {})
    data = content if isinstance(content, bytes) else str(content).encode("utf-8")
    try:
        bill = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except (OSError, EOFError, zlib.error):
        raise ProviderError(WECHAT, "bill_corrupt", "the bill is not a readable gzip file") from None
    if len(bill) > MAX_BILL_BYTES:
        raise ProviderError(WECHAT, "bill_too_large", f"the bill is over {MAX_BILL_BYTES} bytes")
    if hashlib.new(algorithm, bill).hexdigest().lower() != str(doc["hash_value"]).lower():
        raise ProviderError(WECHAT, "bill_hash_mismatch", "the downloaded bill does not match its hash")
    return bill

"""Payment notification answers reveal nothing (issue 10, outcome 7): a refused notification gets
the provider's plain failure only (WeChat Pay v3: HTTP 4xx/5xx with {"code": "FAIL", "message":
"失败"}, as its notification docs ask of a merchant; Alipay: the text `fail`, anything but
`success` makes it retry), whatever the reason; the reason is in the log only (WARNING, field
`reason`). Malformed bodies on these routes (outcome 2) are answered in the same format."""
from __future__ import annotations

import base64
import json
import logging
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode, urlsplit

import pytest

from tests.integration.log_capture import logs  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

WECHAT_FAIL = {"code": "FAIL", "message": "失败"}
WECHAT_NOTIFY = "/v1/payments/wechat/notify"
ALIPAY_NOTIFY = "/v1/payments/alipay/notify"


@pytest.fixture
def order(shop, payments):
    room_id, (pid,) = shop.listed_room(live_stock=20, live_price=12345)
    return shop.ok(shop.order("viewer-1", room_id, [{"product_id": pid, "quantity": 1}], auto_coupon=False), 201)


def _post(shop, path, headers, body):
    return shop.api.call("POST", path, headers=headers, raw_body=body)


def _assert_wechat_fail(response, reason, logs, status=400):
    assert response.status == status, response.body
    assert response.headers.get("Content-Type", "").startswith("application/json")
    assert json.loads(response.body) == WECHAT_FAIL, response.body
    if reason:
        assert reason not in response.body
    _assert_logged(reason, logs)


def _assert_alipay_fail(response, reason, logs, status=400):
    assert response.status == status, response.body
    assert response.headers.get("Content-Type", "").startswith("text/plain")
    assert response.body == "fail"
    _assert_logged(reason, logs)


def _assert_logged(reason, logs):
    found = [r for r in logs.records if getattr(r, "reason", None) == reason]
    assert found, f"no log record with reason={reason!r}:\n{logs.text()}"
    assert all(r.levelno == logging.WARNING for r in found), logs.text()
    assert logs.with_traceback() == [], logs.text()


# -- WeChat Pay -----------------------------------------------------------------------------

def _wechat_note(shop, payments, order, mchid=None, **kwargs):
    wechat, _ = payments
    shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/payments", "viewer-1", {"channel": "wechat"},
                      idem=f"pay-{order['id']}"))
    wechat.pay(order["id"], deliver=False)
    if mchid:   # the stand-in speaks for another merchant from now on
        wechat.mchid = mchid
    return wechat.build_notification(order["id"], **kwargs)


def _wechat_signed(payments, url, body: bytes):
    wechat, _ = payments
    return wechat._sign_notification(url, body)


WECHAT_FORGERIES = ["missing_signature_headers", "unsupported_signature_type", "unknown_serial", "bad_timestamp",
                    "stale_timestamp", "malformed", "bad_signature_or_ciphertext", "foreign_merchant"]


@pytest.mark.parametrize("reason", WECHAT_FORGERIES)
def test_wechat_refusals_answer_fail_and_log_the_reason(shop, payments, order, logs, reason):
    from cryptography.hazmat.primitives.asymmetric import rsa

    kwargs = {"foreign_merchant": {"mchid": "1900009999"},
              "unknown_serial": {"serial": "PUB_KEY_ID_NOT_OURS"},
              "stale_timestamp": {"timestamp": int(time.time()) - 3600},
              "bad_signature_or_ciphertext": {"sign_with": rsa.generate_private_key(public_exponent=65537,
                                                                                    key_size=2048)}}.get(reason, {})
    note = _wechat_note(shop, payments, order, **kwargs)
    if reason == "missing_signature_headers":
        note.headers = {"Content-Type": "application/json"}
    elif reason == "unsupported_signature_type":
        note.headers["Wechatpay-Signature-Type"] = "WECHATPAY2-SHA256-SM2"
    elif reason == "bad_timestamp":
        note.headers["Wechatpay-Timestamp"] = "yesterday"
    elif reason == "malformed":   # signed, but not the envelope the SDK decrypts
        note = _wechat_signed(payments, note.url, json.dumps({"resource_type": "encrypt-resource",
                                                                 "resource": {"algorithm": "SM4-GCM"}}).encode())
    logs.clear()
    response = _post(shop, urlsplit(note.url).path, note.headers, note.body)
    _assert_wechat_fail(response, reason, logs)
    assert shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", "viewer-1"))["state"] == "pending_payment"


def test_wechat_store_trouble_answers_fail_without_its_code(shop, payments, order, logs, monkeypatch):
    """A busy store (a Problem from applying the payment) is a 5xx FAIL, so WeChat Pay retries; its code stays in the log."""
    from livecommerce import orders
    from livecommerce.shared import problems

    def busy(**kwargs):
        raise problems.UpstreamUnavailable("The store is busy.", code="store_busy_xyz")

    note = _wechat_note(shop, payments, order)
    monkeypatch.setattr(orders, "apply_payment", busy)
    logs.clear()
    response = _post(shop, WECHAT_NOTIFY, note.headers, note.body)
    _assert_wechat_fail(response, "store_busy_xyz", logs, status=503)


@pytest.mark.parametrize("case,status,reason", [
    ("nested_1000", 400, "malformed_body"), ("int_5000_digits", 400, "malformed_body"),
    ("utf16", 400, "malformed_body"), ("invalid_utf8", 400, "malformed_body"),
    ("x_jsonish", 415, "unsupported_media_type"), ("too_large", 413, "payload_too_large"),
])
def test_malformed_wechat_notifications_answer_fail(shop, payments, order, logs, case, status, reason):
    note = _wechat_note(shop, payments, order)
    headers, body = dict(note.headers), note.body
    if case == "nested_1000":
        body = b'{"resource": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    elif case == "int_5000_digits":
        body = b'{"resource": ' + b"9" * 5000 + b"}"
    elif case == "utf16":
        body = note.body.decode().encode("utf-16")
    elif case == "invalid_utf8":
        body = note.body[:-2] + b"\xff\xfe}"
    elif case == "x_jsonish":
        headers["Content-Type"] = "application/x-jsonish"
    else:
        body = b'{"pad": "' + b"x" * 20_000 + b'"}'
    logs.clear()
    response = _post(shop, WECHAT_NOTIFY, headers, body)
    _assert_wechat_fail(response, reason, logs, status=status)


# -- Alipay ---------------------------------------------------------------------------------

def _alipay_note(shop, payments, order, seller_id=None, **kwargs):
    _, alipay = payments
    shop.ok(shop.call("POST", f"/v1/orders/{order['id']}/payments", "viewer-1", {"channel": "alipay"},
                      idem=f"pay-{order['id']}"))
    alipay.pay(order["id"], deliver=False)
    if seller_id:   # the stand-in speaks for another seller from now on
        alipay.seller_id = seller_id
    return alipay.build_notification(order["id"], **kwargs)


def _resign(alipay, params: dict[str, str]) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    params.pop("sign", None)
    unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign_type")
    params["sign"] = base64.b64encode(alipay._platform_key.sign(unsigned.encode(), padding.PKCS1v15(),
                                                                hashes.SHA256())).decode()


ALIPAY_FORGERIES = ["missing_signature", "unsupported_signature_type", "foreign_app", "missing_trade_no",
                    "bad_signature", "bad_notify_time", "stale_notify_time", "foreign_seller"]


@pytest.mark.parametrize("reason", ALIPAY_FORGERIES)
def test_alipay_refusals_answer_fail_and_log_the_reason(shop, payments, order, logs, reason):
    from cryptography.hazmat.primitives.asymmetric import rsa

    _, alipay = payments
    kwargs = {"foreign_seller": {"seller_id": "2088000000009999"},
              "foreign_app": {"app_id": "2021000000009999"},
              "bad_signature": {"sign_with": rsa.generate_private_key(public_exponent=65537, key_size=2048)},
              "stale_notify_time": {"notify_time": datetime.now(timezone.utc) - timedelta(days=2)}}.get(reason, {})
    note = _alipay_note(shop, payments, order, **kwargs)
    params = note.params
    if reason == "missing_signature":
        params.pop("sign")
    elif reason == "unsupported_signature_type":
        params["sign_type"] = "RSA"
    elif reason == "missing_trade_no":
        params.pop("trade_no")
        _resign(alipay, params)
    elif reason == "bad_notify_time":
        params["notify_time"] = "yesterday"
        _resign(alipay, params)
    logs.clear()
    response = _post(shop, ALIPAY_NOTIFY, note.headers, urlencode(params).encode())
    _assert_alipay_fail(response, reason, logs)
    assert shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", "viewer-1"))["state"] == "pending_payment"


@pytest.mark.parametrize("case,status,reason", [
    ("invalid_bytes", 400, "malformed_body"), ("percent_encoded_invalid_bytes", 400, "malformed_body"),
    ("utf16", 400, "malformed_body"), ("json", 415, "unsupported_media_type"),
    ("too_large", 413, "payload_too_large"),
])
def test_malformed_alipay_notifications_answer_fail(shop, payments, order, logs, case, status, reason):
    note = _alipay_note(shop, payments, order)
    headers, body = dict(note.headers), note.body
    if case == "invalid_bytes":
        body = body.replace(b"subject=", b"subject=\xff\xfe\xc3", 1)
    elif case == "percent_encoded_invalid_bytes":
        body = body.replace(b"subject=", b"subject=%FF%FE%C3", 1)
    elif case == "utf16":
        body = body.decode().encode("utf-16")
    elif case == "json":
        headers["Content-Type"] = "application/json"
        body = json.dumps(note.params).encode()
    else:
        body = body + b"&pad=" + b"x" * 20_000
    logs.clear()
    response = _post(shop, ALIPAY_NOTIFY, headers, body)
    _assert_alipay_fail(response, reason, logs, status=status)
    assert shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", "viewer-1"))["state"] == "pending_payment"


def test_genuine_notifications_still_succeed(shop, payments, order, logs):
    note = _alipay_note(shop, payments, order)
    response = _post(shop, ALIPAY_NOTIFY, note.headers, note.body)
    assert response.status == 200 and response.body == "success"
    assert shop.ok(shop.call("GET", f"/v1/orders/{order['id']}", "viewer-1"))["state"] == "paid"

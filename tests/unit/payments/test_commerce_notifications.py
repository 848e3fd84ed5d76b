"""Payment notification verification, with notifications made by the stand-ins (no AWS, no HTTP)."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from livecommerce.payments import alipay_adapter, wechatpay_adapter
from livecommerce.payments.credentials import AlipayConfig, PaymentCredentials, WeChatPayConfig
from livecommerce.payments.errors import NotificationRejected
from local.standins.alipay_pay import AlipayPayStandIn, AlipayTrade
from local.standins.wechatpay_api import Trade, WeChatPayStandIn


@pytest.fixture(scope="module")
def wechat():
    standin, merchant = WeChatPayStandIn.with_fresh_merchant(appid="wx-unit")
    standin.trades["ORDER1"] = Trade(out_trade_no="ORDER1", prepay_id="wx1", request={}, amount=1234, openid="o-1",
                                     notify_url="https://x/v1/payments/wechat/notify", time_expire=None)
    standin.pay("ORDER1", deliver=False)
    return standin, WeChatPayConfig(**merchant)


def _verify(cfg, note, now=None):
    return wechatpay_adapter.verify_notification(cfg, note.headers, note.body.decode(), now=now or time.time(),
                                                 max_age_seconds=300, api_base="http://127.0.0.1:9", timeout=1)


def test_genuine_wechat_notification_verifies_and_decrypts(wechat):
    standin, cfg = wechat
    result = _verify(cfg, standin.build_notification("ORDER1"))
    resource = result["resource"]
    assert result["event_type"] == "TRANSACTION.SUCCESS" and resource["trade_state"] == "SUCCESS"
    assert resource["out_trade_no"] == "ORDER1" and resource["amount"]["total"] == 1234
    assert resource["transaction_id"] == standin.trades["ORDER1"].transaction_id


@pytest.mark.parametrize("forge,reason", [
    ({"timestamp": -330}, "stale_timestamp"),
    ({"timestamp": +330}, "stale_timestamp"),
    ({"serial": "PUB_KEY_ID_OTHER"}, "unknown_serial"),
    ({"sign_with": rsa.generate_private_key(public_exponent=65537, key_size=2048)}, "bad_signature_or_ciphertext"),
    ({"tamper_body": True}, "bad_signature_or_ciphertext"),
    ({"apiv3_key": "x" * 32}, "bad_signature_or_ciphertext"),
])
def test_forged_wechat_notifications_are_rejected(wechat, forge, reason):
    standin, cfg = wechat
    if "timestamp" in forge:
        forge = {"timestamp": int(time.time()) + forge["timestamp"]}
    with pytest.raises(NotificationRejected) as err:
        _verify(cfg, standin.build_notification("ORDER1", **forge))
    assert err.value.reason == reason


def test_wechat_notification_for_another_merchant_is_rejected(wechat):
    standin, cfg = wechat
    other = WeChatPayConfig(**{**cfg.__dict__, "mchid": "1999999999"})
    with pytest.raises(NotificationRejected) as err:
        _verify(other, standin.build_notification("ORDER1"))
    assert err.value.reason == "foreign_merchant"


def test_wechat_notification_missing_headers(wechat):
    standin, cfg = wechat
    note = standin.build_notification("ORDER1")
    for header in ("Wechatpay-Signature", "Wechatpay-Serial", "Wechatpay-Timestamp", "Wechatpay-Nonce"):
        headers = {k: v for k, v in note.headers.items() if k != header}
        with pytest.raises(NotificationRejected):
            wechatpay_adapter.verify_notification(cfg, headers, note.body.decode(), now=time.time(),
                                                  max_age_seconds=300, api_base="http://127.0.0.1:9", timeout=1)
    with pytest.raises(NotificationRejected) as err:
        wechatpay_adapter.verify_notification(cfg, {**note.headers, "Wechatpay-Signature-Type": "SM2"},
                                              note.body.decode(), now=time.time(), max_age_seconds=300,
                                              api_base="http://127.0.0.1:9", timeout=1)
    assert err.value.reason == "unsupported_signature_type"


@pytest.fixture(scope="module")
def alipay():
    standin, app = AlipayPayStandIn.with_fresh_app("2021000000000777")
    standin.trades["ORDER2"] = AlipayTrade(out_trade_no="ORDER2", trade_no="2026T1", total_amount="12.34",
                                           subject="围巾", buyer={"buyer_id": "2088000000000002"},
                                           notify_url="https://x/v1/payments/alipay/notify", time_expire=None,
                                           gmt_create="2026-11-25 12:00:00")
    standin.pay("ORDER2", deliver=False)
    return standin, AlipayConfig(**app)


def test_genuine_alipay_notification_verifies(alipay):
    standin, cfg = alipay
    note = standin.build_notification("ORDER2")
    params = alipay_adapter.verify_notification(cfg, note.params, now=datetime.now(timezone.utc),
                                                max_age_seconds=3600)
    assert params["trade_status"] == "TRADE_SUCCESS" and params["total_amount"] == "12.34"
    assert "sign" not in params and "sign_type" not in params


@pytest.mark.parametrize("change,reason", [
    (lambda p: p.update(total_amount="0.01"), "bad_signature"),
    (lambda p: p.update(sign_type="RSA"), "unsupported_signature_type"),
    (lambda p: p.pop("sign"), "missing_signature"),
    (lambda p: p.update(app_id="2021000000000000"), "foreign_app"),
    (lambda p: p.pop("notify_id"), "missing_notify_id"),
])
def test_forged_alipay_notifications_are_rejected(alipay, change, reason):
    standin, cfg = alipay
    note = standin.build_notification("ORDER2")
    params = dict(note.params)
    change(params)
    with pytest.raises(NotificationRejected) as err:
        alipay_adapter.verify_notification(cfg, params, now=datetime.now(timezone.utc), max_age_seconds=3600)
    assert err.value.reason == reason


def test_stale_alipay_notification_is_rejected(alipay):
    standin, cfg = alipay
    note = standin.build_notification("ORDER2", notify_time=datetime.now(timezone.utc) - timedelta(hours=2))
    with pytest.raises(NotificationRejected) as err:
        alipay_adapter.verify_notification(cfg, note.params, now=datetime.now(timezone.utc), max_age_seconds=3600)
    assert err.value.reason == "stale_notify_time"


def test_payment_secret_shape():
    creds = PaymentCredentials.from_json('{"alipay": {"app_id": "1", "app_private_key": "k", "alipay_public_key": "p"}}')
    assert creds.wechatpay is None and creds.alipay.app_id == "1" and creds.alipay.seller_id is None
    assert PaymentCredentials.from_json("{}") == PaymentCredentials(None, None)
    partial = PaymentCredentials.from_json('{"wechatpay": {"mchid": "1"}}')
    assert partial.wechatpay is None   # an incomplete provider is treated as absent (503), not half-used

"""The payment stand-ins for the local stage (the demo products and coupon are in local.seed).

`start_payment_standins()` runs the WeChat Pay and Alipay stand-ins with freshly
generated keys, stores the matching payments secret in the embedded AWS and points
the payments function at them, so a payment can be made end to end on loopback:

    POST /v1/orders/{id}/payments {"channel": "wechat"}      -> wx.requestPayment parameters
    POST <wechatpay stand-in>/__standin/pay {"out_trade_no": "<order id>"}
         -> the stand-in sends a signed, encrypted notification to /v1/payments/wechat/notify
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

@dataclass
class PaymentStandIns:
    wechat: Any
    alipay: Any
    secret: dict[str, Any]

    @property
    def urls(self) -> dict[str, str]:
        return {"wechatpay_standin": self.wechat.base_url, "alipay_pay_standin": self.alipay.gateway_url}

    def stop(self) -> None:
        self.wechat.stop()
        self.alipay.stop()


def start_payment_standins(session, *, api_url: str, secret_id: str | None = None,
                           wechat_app_id: str = "wx-local-app", alipay_app_id: str = "2021000000000000",
                           mchid: str = "1900000109") -> PaymentStandIns:
    """Start both payment stand-ins with fresh keys and configure the stack to use them.

    Sets PAYMENTS_SECRET_ID, WECHATPAY_API_BASE, ALIPAY_PAY_GATEWAY and
    PAYMENT_NOTIFY_BASE (= api_url: the providers post their notifications to
    the local API) in os.environ, and writes the payments secret."""
    from local.standins.alipay_pay import AlipayPayStandIn
    from local.standins.wechatpay_api import WeChatPayStandIn

    secret_id = secret_id or os.environ.get("PAYMENTS_SECRET_ID") or "livecommerce-local/payment-providers"
    wechat, wechat_config = WeChatPayStandIn.with_fresh_merchant(mchid=mchid, appid=wechat_app_id)
    alipay, alipay_config = AlipayPayStandIn.with_fresh_app(alipay_app_id)
    wechat.start()
    alipay.start()
    secret = {"wechatpay": wechat_config, "alipay": alipay_config}
    sm = session.client("secretsmanager")
    try:
        sm.create_secret(Name=secret_id, SecretString=json.dumps(secret))
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(secret))
    os.environ.update({"PAYMENTS_SECRET_ID": secret_id, "WECHATPAY_API_BASE": wechat.base_url,
                       "ALIPAY_PAY_GATEWAY": alipay.gateway_url, "PAYMENT_NOTIFY_BASE": api_url.rstrip("/")})
    return PaymentStandIns(wechat=wechat, alipay=alipay, secret=secret)

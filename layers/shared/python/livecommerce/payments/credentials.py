"""Payment provider credentials, from one Secrets Manager secret (PAYMENTS_SECRET_ID).

Shape (JSON):

    {"wechatpay": {"mchid": "1900000109", "appid": "wx...",
                   "merchant_serial_no": "<merchant API certificate serial>",
                   "merchant_private_key": "<PEM>",
                   "apiv3_key": "<32 characters>",
                   "platform_public_key": "<PEM: WeChat Pay public key>",
                   "platform_public_key_id": "PUB_KEY_ID_..."},
     "alipay": {"app_id": "2021...", "app_private_key": "<PEM>",
                "alipay_public_key": "<PEM>", "seller_id": "2088... (optional)"}}

Either provider may be left out; its channel then answers 503.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from livecommerce.orders import commerce_settings as get_commerce_settings
from livecommerce.shared import aws
from livecommerce.shared.ttl_cache import TtlCache

CACHE_SECONDS = 300


@dataclass(frozen=True)
class WeChatPayConfig:
    mchid: str
    appid: str
    merchant_serial_no: str
    merchant_private_key: str
    apiv3_key: str
    platform_public_key: str
    platform_public_key_id: str


@dataclass(frozen=True)
class AlipayConfig:
    app_id: str
    app_private_key: str
    alipay_public_key: str
    seller_id: str | None = None


@dataclass(frozen=True)
class PaymentCredentials:
    wechatpay: WeChatPayConfig | None
    alipay: AlipayConfig | None

    @classmethod
    def from_json(cls, text: str) -> "PaymentCredentials":
        doc: dict[str, Any] = json.loads(text or "{}")
        wx = doc.get("wechatpay") or None
        ali = doc.get("alipay") or None
        return cls(
            wechatpay=WeChatPayConfig(**{k: str(wx[k]) for k in WeChatPayConfig.__dataclass_fields__})
            if wx and all(wx.get(k) for k in WeChatPayConfig.__dataclass_fields__) else None,
            alipay=AlipayConfig(app_id=str(ali["app_id"]), app_private_key=str(ali["app_private_key"]),
                                alipay_public_key=str(ali["alipay_public_key"]), seller_id=ali.get("seller_id"))
            if ali and ali.get("app_id") and ali.get("app_private_key") and ali.get("alipay_public_key") else None,
        )


# One entry: after a secret id change, going back to an earlier id reads it again rather than
# serving the copy kept before the change.
_cache: TtlCache[str, PaymentCredentials] = TtlCache(CACHE_SECONDS, max_entries=1)


def _load(secret_id: str) -> PaymentCredentials:
    sm = aws.client("secretsmanager")
    try:
        raw = sm.get_secret_value(SecretId=secret_id)["SecretString"]
    except sm.exceptions.ResourceNotFoundException:
        raw = "{}"   # no secret: no provider configured (each channel answers as unavailable)
    return PaymentCredentials.from_json(raw)


def credentials() -> PaymentCredentials:
    secret_id = get_commerce_settings().payments_secret_id
    return _cache.get(secret_id, lambda: _load(secret_id))


def clear_cache() -> None:
    _cache.clear()

"""Commerce settings from environment variables, read in one place.

Kept apart from livecommerce.shared.settings (the platform's) so the commerce
contexts can be configured without touching it; read on every call (a dict
lookup) so tests and the local stack may change them between requests.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from livecommerce.shared.settings import LOCAL_STAGE, get_settings

DEFAULT_PAYMENT_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class CommerceSettings:
    payment_window_seconds: int
    payments_secret_id: str
    wechatpay_api_base: str
    alipay_pay_gateway: str
    payment_notify_base: str | None
    provider_timeout_seconds: float
    wechat_notification_max_age_seconds: int
    alipay_notification_max_age_seconds: int
    flash_countdown_seconds: int
    stage: str

    @property
    def is_local(self) -> bool:
        return self.stage == LOCAL_STAGE


def get_commerce_settings() -> CommerceSettings:
    env = os.environ
    return CommerceSettings(
        payment_window_seconds=int(env.get("ORDER_PAYMENT_WINDOW_SECONDS", DEFAULT_PAYMENT_WINDOW_SECONDS)),
        payments_secret_id=env.get("PAYMENTS_SECRET_ID", "livecommerce-local/payment-providers"),
        wechatpay_api_base=env.get("WECHATPAY_API_BASE", "https://api.mch.weixin.qq.com").rstrip("/"),
        alipay_pay_gateway=env.get("ALIPAY_PAY_GATEWAY") or env.get("ALIPAY_GATEWAY")
        or "https://openapi.alipay.com/gateway.do",
        payment_notify_base=(env.get("PAYMENT_NOTIFY_BASE") or "").rstrip("/") or None,
        provider_timeout_seconds=float(env.get("PAYMENT_PROVIDER_TIMEOUT_SECONDS", "8")),
        # WeChat Pay: a notification's Wechatpay-Timestamp must be within 5 minutes.
        wechat_notification_max_age_seconds=int(env.get("WECHATPAY_NOTIFY_MAX_AGE_SECONDS", "300")),
        # Alipay re-sends a notification for about 25 hours (4m, 10m, 10m, 1h, 2h, 6h, 15h);
        # its notify_time is older than that only for a replay.
        alipay_notification_max_age_seconds=int(env.get("ALIPAY_NOTIFY_MAX_AGE_SECONDS", str(26 * 3600))),
        # A scheduled flash sale's final countdown is announced to the room this long before it opens.
        flash_countdown_seconds=int(env.get("FLASH_COUNTDOWN_SECONDS", "10")),
        stage=get_settings().stage,
    )


@dataclass(frozen=True)
class FulfilmentSettings:
    auto_receipt_days: int          # a shipped order is received automatically this many days after shipping
    after_sale_window_days: int     # an after-shipping refund may be asked for this many days after receipt


def get_fulfilment_settings() -> FulfilmentSettings:
    env = os.environ
    return FulfilmentSettings(
        auto_receipt_days=int(env.get("ORDER_AUTO_RECEIPT_DAYS", "10")),
        after_sale_window_days=int(env.get("AFTER_SALE_WINDOW_DAYS", "7")),
    )

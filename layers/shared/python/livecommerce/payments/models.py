"""Payments API shapes."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["wechat", "alipay"]

# What a refused payment notification is answered, whatever the reason (the reason is logged, never
# answered: it would tell a forger which check failed). WeChat Pay v3 asks a merchant that did not
# accept a notification for HTTP 4xx/5xx with {"code": "FAIL", "message": "失败"}; Alipay retries
# on anything but the text "success".
WECHAT_FAIL = {"code": "FAIL", "message": "失败"}
ALIPAY_FAIL = "fail"


class PaymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Channel
    payer_openid: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9_-]+$",
                                     description="WeChat: the buyer's openid under our mini-program, when the "
                                                 "server does not know it from the login.")
    buyer_id: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9_-]+$",
                                 description="Alipay: the buyer's user id (2088...) or open_id, when the server "
                                             "does not know it from the login.")


class WeChatPayParams(BaseModel):
    """Pass to wx.requestPayment as they are."""
    appId: str
    timeStamp: str
    nonceStr: str
    package: str
    signType: Literal["RSA"]
    paySign: str


class AlipayParams(BaseModel):
    """Pass to my.tradePay({tradeNO})."""
    tradeNO: str


class PaymentParams(BaseModel):
    order_id: str
    channel: Channel
    amount: int
    pay_by: str
    wechat: WeChatPayParams | None = None
    alipay: AlipayParams | None = None


class RefundRecord(BaseModel):
    """A refund as the payments face hands it out (reconciliation reads these)."""

    model_config = ConfigDict(frozen=True)

    refund_id: str                      # ours: the provider's out_refund_no (WeChat) / out_request_no (Alipay)
    order_id: str
    user_id: str
    channel: Channel
    transaction_id: str
    amount: int                         # fen
    cause: str
    after_sale_id: str | None = None
    state: Literal["requested", "processing", "succeeded", "failed"]
    provider_refund_id: str | None = None
    provider_code: str | None = None
    created_at: str
    submitted_at: str | None = None
    refunded_at: str | None = None
    updated_at: str

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


# -- reconciliation ---------------------------------------------------------------------------

class ReconciliationTotals(BaseModel):
    payments: int = 0                   # how many
    payment_amount: int = 0             # fen
    refunds: int = 0
    refund_amount: int = 0


class ProviderReconciliation(BaseModel):
    """One provider's bill for the day against our records."""

    channel: Channel
    outcome: Literal["reconciled", "discrepancies", "bill_not_ready", "bill_unparsable", "provider_error",
                     "not_configured"] = Field(description=(
        "reconciled: the bill and our records agree; discrepancies: they differ (see `discrepancies`); "
        "bill_not_ready: the provider has no bill for the day yet (WeChat Pay NO_STATEMENT_EXIST / "
        "STATEMENT_CREATING, Alipay isp.bill_not_exist): run the day again later; bill_unparsable: the file "
        "does not parse or does not match its hash; provider_error: the provider could not be asked; "
        "not_configured: no merchant keys for this provider."))
    code: str | None = Field(default=None, description="The provider's code when it refused, or why the bill "
                                                       "was refused.")
    message: str | None = None
    ours: ReconciliationTotals
    bill: ReconciliationTotals | None = None
    discrepancies: int = 0


class Discrepancy(BaseModel):
    kind: Literal["missing_in_bill", "extra_in_bill", "amount_mismatch", "bill_unparsable"]
    channel: Channel
    entry_type: Literal["payment", "refund"] | None = None
    entry: str | None = Field(default=None, description="The provider's transaction id (payment) or our refund id.")
    order_id: str | None = None
    ours: int | None = Field(default=None, description="Our amount, fen.")
    bill: int | None = Field(default=None, description="The bill's amount, fen.")
    detail: str | None = None


class ReconciliationReport(BaseModel):
    """The day's providers' bills against our payments and refunds (a re-run replaces it)."""

    date: str = Field(description="The bill day, yyyy-mm-dd, Beijing time (the providers' bill day).")
    ran_at: str
    runs: int = Field(description="How many times the day was run; this is the last run's report.")
    trigger: Literal["schedule", "operator"]
    providers: list[ProviderReconciliation]
    discrepancies: list[Discrepancy]
    truncated: bool = Field(default=False, description="More discrepancies than are listed; the per-provider "
                                                       "counts are exact.")

"""The domain events payments emits: one model per type in spec.py `emits`.

A refund is announced once, when the provider's result for it is known and applied
(a verified refund notification, or the answer to a refund query): RefundSucceeded
when the money is back with the payer, RefundFailed when the provider will not pay
it back (the refund then needs a person: a closed bank card, an abnormal account).
Money is in fen (int). `cause` is "after_sale" for a refund an after-sale asked for
(orders' AfterSaleRefundApproved; `after_sale_id` set) or the reason of orders'
OrderRefundRequired ("amount_mismatch", "already_paid", "order_<state>";
`after_sale_id` null). Consumers parse a detail with `Model.parse(detail)`.
"""
from __future__ import annotations

from livecommerce.shared.events import DomainEvent


class RefundSucceeded(DomainEvent):
    """The provider paid `amount` fen of transaction `transaction_id` back to the payer."""

    refund_id: str                      # ours (the provider's out_refund_no / out_request_no)
    order_id: str
    user_id: str
    channel: str                        # wechat, alipay
    transaction_id: str                 # the payment it refunds
    amount: int                         # fen refunded by this refund
    cause: str                          # after_sale, or OrderRefundRequired's reason
    after_sale_id: str | None = None
    refunded_at: str                    # ISO 8601 UTC: when the provider says the money went back


class RefundFailed(DomainEvent):
    """The provider refused or abandoned the refund; no money moved."""

    refund_id: str
    order_id: str
    user_id: str
    channel: str
    amount: int
    cause: str
    after_sale_id: str | None = None
    provider_code: str                  # the provider's code (ABNORMAL, CLOSED, ACQ.TRADE_NOT_ALLOW_REFUND, ...)
    message: str

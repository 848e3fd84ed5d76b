"""What the payments context declares: its routes and function (payments keep
their records in the orders table, through the orders context's public face)."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, Route

SPEC = ContextSpec(
    name="payments",
    description="WeChat Pay / Alipay payments and their verified notifications",
    routes=(
        # The only function that reads the payment provider keys.
        Route("POST", "/v1/orders/{order_id}/payments", "payments", "token", "owner",
              errors=(403, 502, 503)),   # not the buyer; the provider refused / is down
        Route("POST", "/v1/payments/wechat/notify", "payments", "public", "provider"),
        Route("POST", "/v1/payments/alipay/notify", "payments", "public", "provider",
              media_type="application/x-www-form-urlencoded"),   # Alipay posts a form
    ),
    functions=(
        FunctionSpec(
            name="payments",
            description="WeChat Pay / Alipay payments and their verified notifications",
            # apply_payment: the order, the settlement record and the outbox (orders), the
            # coupon use (marketing), the per-transaction notification record and the
            # Idempotency-Key record (idempotency).
            tables_write=("Orders", "Marketing", "Idempotency"),
            tables_read=("Identity",),               # the payer's openid / Alipay user id
            reads_payments_secret=True,              # the only function that reads the merchant keys
            puts_events=True,                        # OrderPaid, OrderRefundRequired
            # The prepay call to WeChat Pay / Alipay is an outbound HTTPS call (8 s timeout).
            timeout_seconds=15,
        ),
    ),
    router="livecommerce.payments.router",
)

"""What the payments context declares: its table, routes, functions, subscriptions and events.

Payments of an order are recorded in the orders table, through the orders context's public face
(orders.apply_payment); refunds are payments' own, in the Payments table."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, IndexSpec, Route, Subscription, TableSpec

# Payments: refunds and, per paid transaction, the sum of its refunds (never more than was paid),
# and the payments outbox. gsi1: refunds by the day they were asked for (reconciliation), pending
# outbox events. gsi2: refunds whose result is not known yet (polled at the provider).
PAYMENTS = TableSpec(
    logical_id="Payments",
    env_var="PAYMENTS_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"), IndexSpec("gsi2", "gsi2pk", "gsi2sk")),
    ttl_attribute="expires_at",
)

RECONCILIATION_SCHEDULE = "cron(30 2,6 * * ? *)"

# The events a refund is made for (orders'): an after-sale refund approved, money an order cannot take.
REFUND_CAUSES = ("AfterSaleRefundApproved", "OrderRefundRequired")

SPEC = ContextSpec(
    name="payments",
    description="WeChat Pay / Alipay payments and refunds, and their verified notifications",
    tables=(PAYMENTS,),
    routes=(
        # The only function that reads the payment provider keys.
        Route("POST", "/v1/orders/{order_id}/payments", "payments", "token", "owner",
              errors=(403, 502, 503)),   # not the buyer; the provider refused / is down
        Route("POST", "/v1/payments/wechat/notify", "payments", "public", "provider"),
        Route("POST", "/v1/payments/alipay/notify", "payments", "public", "provider",
              media_type="application/x-www-form-urlencoded"),   # Alipay posts a form
        Route("POST", "/v1/payments/wechat/refund-notify", "payments", "public", "provider"),
        Route("POST", "/v1/payments/alipay/refund-notify", "payments", "public", "provider",
              media_type="application/x-www-form-urlencoded"),
        # The daily reconciliation's report, and running a day again (payments.reconciliation).
        Route("GET", "/v1/reconciliation/{date}", "payments", "token", "operator"),
        Route("POST", "/v1/reconciliation/{date}/runs", "payments", "token", "operator", errors=(503,)),
    ),
    subscriptions=(
        # Refund once per after-sale / per (transaction, reason): the refund id is derived from them.
        Subscription("Refunds", "refunds", detail_types=REFUND_CAUSES),
    ),
    functions=(
        FunctionSpec(
            name="payments",
            description="WeChat Pay / Alipay payments and refunds: prepay and the verified notifications",
            # apply_payment: the order, the settlement record and the outbox (orders), the
            # coupon use (marketing), the per-transaction notification record and the
            # Idempotency-Key record (idempotency); refund results (payments).
            tables_write=(PAYMENTS, "Orders", "Marketing", "Idempotency"),
            tables_read=("Identity",),               # the payer's openid / Alipay user id
            reads_payments_secret=True,              # the merchant keys
            puts_events=True,                        # OrderPaid, OrderRefundRequired, RefundSucceeded, RefundFailed
            # The prepay call to WeChat Pay / Alipay is an outbound HTTPS call (8 s timeout); an operator's
            # reconciliation run downloads two bills (API Gateway waits at most 29 s).
            timeout_seconds=29,
        ),
        FunctionSpec(
            name="refunds",
            description="Refunds what orders ask for (after-sales, money an order cannot take) at WeChat Pay / "
                        "Alipay, once; every minute asks the providers about refunds whose result is late",
            # The refund, the transaction's refunded sum and the outbox (payments).
            tables_write=(PAYMENTS,),
            reads_payments_secret=True,
            puts_events=True,                        # RefundSucceeded, RefundFailed
            schedule="rate(1 minute)",
            timeout_seconds=60,
            memory_mb=256,
        ),
        FunctionSpec(
            name="reconciliation",
            description="Daily: each provider's bill for yesterday (Beijing) against our payments and refunds; "
                        "stores the day's report (a re-run replaces it)",
            # Reads the day's settlements (orders' day index) and refunds, writes the report (payments);
            # writes Orders only to backfill the settlements' day index ({"action": "index_settlements"}).
            tables_write=(PAYMENTS, "Orders"),
            reads_payments_secret=True,
            # 02:30 UTC = 10:30 Asia/Shanghai (no daylight saving), after both providers publish the
            # previous day's bills (WeChat Pay after 10:00, Alipay from about 09:00); 06:30 UTC comes
            # back (14:30) for a day whose bill was not ready.
            schedule=RECONCILIATION_SCHEDULE,
            timeout_seconds=300,
            memory_mb=1024,
        ),
    ),
    emits=("RefundSucceeded", "RefundFailed"),
    router="livecommerce.payments.router",
)

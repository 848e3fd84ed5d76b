"""PynamoDB items of the payments table.

  REFUND#<refund id>        META          a refund: what, why, its state and the provider's answer;
                                          gsi1 REFUNDDAY#<yyyy-mm-dd> (the day it was asked for),
                                          gsi2 REFUNDOPEN#<shard> while its result is not known
  TXN#<channel>#<txn id>    META          a paid transaction: paid (fen) and refunded (fen, the sum of
                                          its refunds that did not fail; never above paid)
  RECON#<yyyy-mm-dd>        REPORT        the day's reconciliation report (a re-run replaces it)
  <aggregate>               OUTBOX#<ulid> domain events (gsi1: pending)
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute

from livecommerce.payments.spec import PAYMENTS
from livecommerce.shared import dynamo
from livecommerce.shared.outbox import OutboxItem
from livecommerce.shared.storage import Gsi1Index, Gsi2Index, KeyedItem


class RefundItem(KeyedItem):
    class Meta:
        table_name = "unbound"

    refund_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    transaction_id = UnicodeAttribute()
    amount = NumberAttribute()                    # fen this refund pays back
    paid = NumberAttribute()                      # fen the transaction took
    cause = UnicodeAttribute()                    # after_sale, or OrderRefundRequired's reason
    after_sale_id = UnicodeAttribute(null=True)
    state = UnicodeAttribute()                    # rules.REQUESTED, PROCESSING, SUCCEEDED, FAILED
    provider_refund_id = UnicodeAttribute(null=True)
    provider_code = UnicodeAttribute(null=True)
    message = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    submitted_at = UnicodeAttribute(null=True)
    refunded_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()
    attempts = NumberAttribute(default=0)         # provider calls made for it
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    by_day = Gsi1Index()
    open_ = Gsi2Index()

    @staticmethod
    def key(refund_id: str) -> tuple[str, str]:
        return f"REFUND#{refund_id}", "META"


class TransactionItem(KeyedItem):
    class Meta:
        table_name = "unbound"

    order_id = UnicodeAttribute()
    channel = UnicodeAttribute()
    transaction_id = UnicodeAttribute()
    paid = NumberAttribute()
    refunded = NumberAttribute(default=0)
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(channel: str, transaction_id: str) -> tuple[str, str]:
        return f"TXN#{channel}#{transaction_id}", "META"


class ReconciliationItem(KeyedItem):
    """One day's reconciliation report (payments.reconciliation): one item per day, replaced by a re-run."""

    class Meta:
        table_name = "unbound"

    day = UnicodeAttribute()
    report = JSONAttribute()                      # models.ReconciliationReport, as JSON
    ran_at = UnicodeAttribute()
    runs = NumberAttribute(default=1)             # how many runs this day had (the last one is kept)

    @staticmethod
    def key(day: str) -> tuple[str, str]:
        return f"RECON#{day}", "REPORT"


class PaymentsOutboxItem(OutboxItem):
    """The one outbox item (livecommerce.shared.outbox), bound to this table."""

    class Meta:
        table_name = "unbound"


MODELS = (RefundItem, TransactionItem, ReconciliationItem, PaymentsOutboxItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, PAYMENTS)

"""Payments: WeChat Pay v3 JSAPI prepay and Alipay mini-program trade create, their verified
asynchronous notifications, and refunds (after-sales, money an order cannot take) with their
verified results; the payment check and close before an unpaid order expires.

The public face: what other contexts and the handlers may call. Events are in
`livecommerce.payments.events`. Importing this package stays light (pydantic types only).
"""
from __future__ import annotations

from typing import Any

from livecommerce.payments.models import RefundRecord, ReconciliationReport

__all__ = ["RefundRecord", "ReconciliationReport", "reconcile", "reconciliation_report", "scheduled_reconciliation",
           "refunds_between", "settle_before_expiry", "on_domain_event", "poll_open_refunds",
           "sweep_outbox"]


def refunds_between(start: str, end: str) -> list[RefundRecord]:
    """Refunds asked for from `start` (inclusive) to `end` (exclusive), ISO 8601 UTC, oldest first per day:
    refund id, order, channel, transaction, amount (fen), state, the provider's refund id, times."""
    from livecommerce.payments import refunds, repository  # deferred: pynamodb, not paid at face import

    return sorted((refunds.record_of(item) for item in repository.refunds_between(start, end)),
                  key=lambda r: (r.created_at, r.refund_id))


def settle_before_expiry(order_id: str) -> bool:
    """Ask the providers an unpaid, overdue order was offered to whether it was paid (a found payment
    is applied as its notification would be) and close it there; False if a provider could not be asked."""
    from livecommerce.payments import expiry  # deferred: pynamodb/botocore/provider SDKs

    return expiry.settle_before_expiry(order_id)


def on_domain_event(event: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge delivery to the refunds function (AfterSaleRefundApproved, OrderRefundRequired)."""
    from livecommerce.payments import consumers  # deferred: pynamodb/botocore/provider SDKs

    return consumers.on_domain_event(event)


def poll_open_refunds() -> int:
    """Every minute: refunds whose result is late, asked about at the provider; how many ended."""
    from livecommerce.payments import refunds  # deferred: pynamodb/botocore/provider SDKs

    return refunds.poll_open_refunds()


def reconcile(day: str, *, trigger: str = "operator") -> ReconciliationReport:
    """Reconcile a bill day (yyyy-mm-dd, Beijing) now: both providers' bills against our payments and
    refunds of that day; the stored report replaces the day's earlier one."""
    from livecommerce.payments import reconciliation  # deferred: pynamodb/botocore/provider SDKs

    return reconciliation.run(day, trigger=trigger)  # type: ignore[arg-type]


def reconciliation_report(day: str) -> ReconciliationReport | None:
    """The day's stored report, or None if the day was not run."""
    from livecommerce.payments import reconciliation  # deferred: pynamodb

    return reconciliation.get(day)


def scheduled_reconciliation() -> ReconciliationReport | None:
    """The daily schedule: yesterday (Beijing), unless its report is complete already."""
    from livecommerce.payments import reconciliation  # deferred: pynamodb/botocore/provider SDKs

    return reconciliation.scheduled()


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    """Publish payments events stranded between commit and flush."""
    from livecommerce.payments import repository  # deferred: pynamodb

    return repository.sweep_outbox(older_than_seconds=older_than_seconds)

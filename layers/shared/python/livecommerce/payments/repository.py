"""Payments data access: refunds, paid transactions' refunded sums, the payments outbox."""
from __future__ import annotations

from datetime import date, timedelta

from pynamodb.exceptions import DoesNotExist

from livecommerce.payments.storage import (PaymentsOutboxItem, ReconciliationItem, RefundItem, TransactionItem,
                                           bind_all)
from livecommerce.shared import outbox

OPEN_SHARDS = 4          # gsi2 partitions of refunds whose result is not known yet

OUTBOX = outbox.Outbox(PaymentsOutboxItem, bind=bind_all)
outbox_items = OUTBOX.items
flush_outbox = OUTBOX.flush


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    return OUTBOX.sweep(older_than_seconds=older_than_seconds)


def day_key(created_at: str) -> str:
    return f"REFUNDDAY#{created_at[:10]}"


def open_key(refund_id: str) -> str:
    return f"REFUNDOPEN#{outbox.shard_of(refund_id, OPEN_SHARDS)}"


def get_refund(refund_id: str) -> RefundItem | None:
    bind_all()
    try:
        return RefundItem.get(*RefundItem.key(refund_id), consistent_read=True)
    except DoesNotExist:
        return None


def get_transaction(channel: str, transaction_id: str) -> TransactionItem | None:
    bind_all()
    try:
        return TransactionItem.get(*TransactionItem.key(channel, transaction_id), consistent_read=True)
    except DoesNotExist:
        return None


def refunds_between(start: str, end: str) -> list[RefundItem]:
    """Refunds asked for from `start` (inclusive) to `end` (exclusive), ISO 8601 UTC, oldest first."""
    bind_all()
    found: list[RefundItem] = []
    day, last = date.fromisoformat(start[:10]), date.fromisoformat(end[:10])
    while day <= last:
        for item in RefundItem.by_day.query(f"REFUNDDAY#{day.isoformat()}",
                                            RefundItem.gsi1sk.between(start, end)):
            if start <= item.created_at < end:
                found.append(item)
        day += timedelta(days=1)
    return found


def open_refunds(*, before: str, limit: int = 100) -> list[RefundItem]:
    """Refunds whose result is not known, asked for before `before`, oldest first per partition."""
    bind_all()
    found: list[RefundItem] = []
    for shard in range(OPEN_SHARDS):
        found += list(RefundItem.open_.query(f"REFUNDOPEN#{shard}", RefundItem.gsi2sk < before, limit=limit))
    return found


def get_reconciliation(day: str) -> ReconciliationItem | None:
    bind_all()
    try:
        return ReconciliationItem.get(*ReconciliationItem.key(day), consistent_read=True)
    except DoesNotExist:
        return None

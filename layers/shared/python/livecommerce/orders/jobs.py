"""Orders' scheduled work: what the every-minute schedule (functions/order_expiry) and
the commerce timers (functions/commerce_timers) run for orders. Each job is
idempotent (every step is a conditional write), so overlapping runs do it once."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from livecommerce.orders import flash, repository, service
from livecommerce.shared import timers


def expire_overdue_orders(*, now_epoch: float | None = None,
                          before_close: Callable[[str], bool] | None = None) -> int:
    """Expire unpaid orders past their payment window (plus grace); stock and coupons go back.
    `before_close`: payments' check at the providers (payments.settle_before_expiry)."""
    return service.expire_overdue(now_epoch=now_epoch, before_close=before_close)


def confirm_due_receipts(now: datetime | None = None) -> int:
    """Receive shipped orders whose buyer has not confirmed within the set number of days."""
    from livecommerce.orders import fulfilment_service  # deferred: only the schedule needs it

    return fulfilment_service.confirm_due_receipts(now)


def run_due_flash_sale_steps(now: datetime | None = None) -> int:
    """Run flash-sale steps whose timer was lost; ask for timers for the next minute's."""
    return flash.run_due_steps(now)


def run_flash_sale_step(sale_id: str, now: datetime) -> timers.StepResult:
    """A flash-sale timer's step (countdown, start or end), once."""
    return flash.run_step(sale_id, now)


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    """Publish orders events stranded between commit and flush."""
    return repository.sweep_outbox(older_than_seconds=older_than_seconds)

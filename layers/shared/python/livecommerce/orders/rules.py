"""Order rules as plain functions (no I/O): what may be sold, paid, cancelled or expired.

Pricing is in orders.pricing; these decide the states around it."""
from __future__ import annotations

from typing import Mapping

PENDING, PAID, CANCELLED, EXPIRED = "pending_payment", "paid", "cancelled", "expired"
# The sweeper expires an order this long after its pay-by time: a payment made at
# the last second and reported late still finds the order waiting for it.
EXPIRY_GRACE_SECONDS = 120


def unsellable(wanted: Mapping[str, int], offered: Mapping[str, tuple[bool, int]]) -> tuple[str, list[str]] | None:
    """Why a room order cannot be taken as asked, or None.

    `wanted`: product id -> quantity; `offered`: product id -> (listed, units left) for the
    room's presets. Products not preset or not listed come first ("product_not_listed"),
    then those with fewer units left than wanted ("out_of_stock"); ids sorted."""
    unlisted = sorted(pid for pid in wanted if pid not in offered or not offered[pid][0])
    if unlisted:
        return "product_not_listed", unlisted
    short = sorted(pid for pid, qty in wanted.items() if int(offered[pid][1]) < qty)
    if short:
        return "out_of_stock", short
    return None


def refund_reason(amount: int, order_total: int, state: str) -> str | None:
    """Why money reported paid cannot be applied to the order (it must be refunded), or None.

    The amount must equal the order's total; an order paid already (by another transaction)
    or closed takes no money."""
    if amount != order_total:
        return "amount_mismatch"
    if state == PAID:
        return "already_paid"
    if state != PENDING:
        return f"order_{state}"
    return None


def expiry_cutoff(now_epoch: float) -> int:
    """Orders whose pay-by time (epoch seconds) is before this are overdue."""
    return int(now_epoch - EXPIRY_GRACE_SECONDS)


def payment_window_open(pay_by_epoch: int, now_epoch: float) -> bool:
    return now_epoch < int(pay_by_epoch)

"""The after-sale state machine and the money it may move: pure, no I/O.

An after-sale is a buyer's request for money back on a paid order. Its states and who
may move each edge are the table `EDGES`; `move` is the only way to change a state.

    (new) --request_before_shipping [buyer]--> approved     the goods never left: refunded at once
    (new) --request_after_shipping  [buyer]--> requested    with a reason, inside the window
    requested --approve [host]--> approved                  the room's host or an operator
    requested --reject  [host]--> rejected
    approved  --refund_succeeded [system]--> refunded       payments' RefundSucceeded
    approved  --refund_failed    [system]--> refund_failed  payments' RefundFailed

`rejected`, `refunded` and `refund_failed` are terminal (after a failed or rejected one the
buyer may ask again: a new after-sale). An order has at most one open after-sale
(`requested` or `approved`) at a time and its amount is reserved, so what is refunded plus
what is reserved never exceeds what was paid (`check_amount`): no path refunds twice or more
than was paid.
"""
from __future__ import annotations

from dataclasses import dataclass

REQUESTED, APPROVED, REJECTED, REFUNDED, REFUND_FAILED = (
    "requested", "approved", "rejected", "refunded", "refund_failed")
STATES = (REQUESTED, APPROVED, REJECTED, REFUNDED, REFUND_FAILED)
OPEN = frozenset({REQUESTED, APPROVED})
TERMINAL = frozenset({REJECTED, REFUNDED, REFUND_FAILED})

BUYER, HOST, SYSTEM = "buyer", "host", "system"     # host: the room's host or an operator
ROLES = (BUYER, HOST, SYSTEM)

NEW = None    # the state of an after-sale not yet created

# (from state, action) -> (to state, the one role that may take this edge)
EDGES: dict[tuple[str | None, str], tuple[str, str]] = {
    (NEW, "request_before_shipping"): (APPROVED, BUYER),
    (NEW, "request_after_shipping"): (REQUESTED, BUYER),
    (REQUESTED, "approve"): (APPROVED, HOST),
    (REQUESTED, "reject"): (REJECTED, HOST),
    (APPROVED, "refund_succeeded"): (REFUNDED, SYSTEM),
    (APPROVED, "refund_failed"): (REFUND_FAILED, SYSTEM),
}
ACTIONS = tuple(sorted({action for _, action in EDGES}))


class Refused(Exception):
    """A move the machine does not allow: `status` and `code` are the API's answer."""

    def __init__(self, code: str, status: int, detail: str) -> None:
        super().__init__(detail)
        self.code, self.status, self.detail = code, status, detail


def move(state: str | None, action: str, role: str) -> str:
    """The state after `action` taken by `role`, or Refused (403 wrong role, 409 not from this state)."""
    edge = EDGES.get((state, action))
    if edge is None:
        if state in TERMINAL:
            raise Refused("after_sale_closed", 409, f"The after-sale is {state}; it cannot change any more.")
        raise Refused("after_sale_wrong_state", 409, f"An after-sale that is {state or 'new'} cannot {action}.")
    to_state, allowed = edge
    if role != allowed:
        raise Refused("forbidden", 403, f"Only the {allowed} may {action.replace('_', ' ')}.")
    return to_state


def refundable(paid: int, refunded: int, reserved: int) -> int:
    """Fen that may still be asked for: paid, less refunded and less reserved by the open after-sale."""
    return max(0, int(paid) - int(refunded) - int(reserved))


def check_amount(amount: int, *, paid: int, refunded: int, reserved: int, before_shipping: bool) -> None:
    """Refused unless `amount` fen may be asked for now. Before shipping the whole order is refunded
    (the goods have not left; stock goes back), so the amount is all that is left."""
    left = refundable(paid, refunded, reserved)
    if reserved:
        raise Refused("after_sale_open", 409, "This order already has an after-sale in progress.")
    if left <= 0:
        raise Refused("nothing_to_refund", 409, "Everything paid for this order has been refunded.")
    if amount <= 0 or amount > left:
        raise Refused("refund_exceeds_paid", 422, f"At most {left} fen can be refunded on this order.")
    if before_shipping and amount != left:
        raise Refused("partial_refund_before_shipping", 422,
                      f"Before shipping the whole order is refunded: {left} fen.")


@dataclass(frozen=True)
class Ledger:
    """An order's money as far as after-sales are concerned (fen)."""

    paid: int
    refunded: int = 0
    reserved: int = 0

    def reserve(self, amount: int) -> "Ledger":
        return Ledger(self.paid, self.refunded, self.reserved + amount)

    def release(self, amount: int) -> "Ledger":
        return Ledger(self.paid, self.refunded, self.reserved - amount)

    def settle(self, amount: int) -> "Ledger":
        return Ledger(self.paid, self.refunded + amount, self.reserved - amount)


def ledger_after(ledger: Ledger, action: str, amount: int) -> Ledger:
    """The order's ledger after an after-sale of `amount` takes `action` (the move was allowed)."""
    if action in ("request_before_shipping", "request_after_shipping"):
        return ledger.reserve(amount)
    if action in ("reject", "refund_failed"):
        return ledger.release(amount)
    if action == "refund_succeeded":
        return ledger.settle(amount)
    return ledger                                   # approve: still reserved


def order_state_after_refund(total: int, refunded: int) -> str:
    """The order's state once `refunded` fen of `total` went back: refunded or partially_refunded."""
    return "refunded" if refunded >= total else "partially_refunded"

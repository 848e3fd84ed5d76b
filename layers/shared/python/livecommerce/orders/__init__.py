"""Orders: orders with stock holds and expiry, flash sales with sharded stock.

The public face: what other contexts (payments, the commerce schedule and
timers) may call. They get orders' pydantic types (`PayableOrder`,
`PaymentAttempt`) or plain values, never the orders table's items; events are
in `livecommerce.orders.events`, scheduled jobs in `livecommerce.orders.jobs`.

Importing this package stays light (no pynamodb or botocore; its pydantic types only): consumers
import `livecommerce.orders.events` and the manifest reads `livecommerce.orders.spec`,
which load it. The functions that touch storage load the service when first
called.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from livecommerce.orders.models import (Address, PayableOrder, PaymentAttempt, PointsGiftOrder, PrizeShipping,
                                        Settlement)
from livecommerce.orders.money import fen_from_yuan_text, yuan_text
from livecommerce.orders.settings import CommerceSettings, get_commerce_settings

if TYPE_CHECKING:
    from livecommerce.shared.api import Caller
    from livecommerce.shared.tx import Tx, TxCancelled

__all__ = ["PayableOrder", "PaymentAttempt", "Settlement", "settlements_on", "index_settlements", "payable_order", "payment_attempt", "record_payment_attempt",
           "apply_payment", "commerce_settings", "fen_from_yuan_text", "yuan_text", "PrizeShipping", "add_prize_order",
           "prize_order_failure", "prize_order_of", "prize_shipping", "Address", "PointsGiftOrder",
           "add_points_gift_order", "points_gift_failure", "points_gift_order", "flash_sale_units_left"]



def _service():
    from livecommerce.orders import service  # deferred: pynamodb/botocore, not paid at face import

    return service


def flash_sale_units_left(sale_id: str) -> int | None:
    """A flash sale's units left now, from its stock shards (one strongly consistent BatchGetItem;
    None: no such sale). Interaction reads it for the room's flash-sale card, coalesced, off the buy."""
    from livecommerce.orders import flash  # deferred: pynamodb/botocore, not paid at face import

    return flash.units_left(sale_id)


def payable_order(caller: Caller, order_id: str) -> PayableOrder:
    """The caller's own order if it can be paid now (pending, inside its payment window); else the
    problem to answer (404 not theirs, 409 order_already_paid / order_not_payable / order_expired)."""
    return _service().payable_order(caller, order_id)


def payment_attempt(order_id: str, channel: str) -> PaymentAttempt | None:
    """The prepay made earlier for this order and channel, or None."""
    return _service().payment_attempt(order_id, channel)


def record_payment_attempt(attempt: PaymentAttempt) -> None:
    """Remember a prepay (replacing the channel's earlier one)."""
    _service().record_payment_attempt(attempt)


def apply_payment(*, channel: str, order_id: str, transaction_id: str, amount: int, paid_at: str) -> str:
    """Apply a verified "paid" report, at most once per provider transaction: "paid" (OrderPaid),
    "duplicate", "refund_required" (OrderRefundRequired: wrong amount, paid twice, closed) or
    "unknown_order"."""
    return _service().apply_payment(channel=channel, order_id=order_id, transaction_id=transaction_id,
                                    amount=amount, paid_at=paid_at)


def settlements_on(day: str) -> list[Settlement]:
    """Every payment a provider reported whose money was taken on `day` (yyyy-mm-dd, Beijing time: the
    providers' bill day), applied or to be refunded, ordered by payment time."""
    from livecommerce.orders import repository  # deferred: pynamodb, not paid at face import

    items = repository.settlements_of_day(day)
    return sorted((Settlement(order_id=i.pk.removeprefix("ORDER#"), channel=i.channel, transaction_id=i.transaction_id,
                              amount=int(i.amount), outcome=i.outcome, reason=i.reason,
                              paid_at=i.paid_at or i.received_at) for i in items),
                  key=lambda s: (s.paid_at, s.channel, s.transaction_id))


def index_settlements() -> int:
    """Backfill: give settlement records written before the day index their index keys (safe to repeat)."""
    from livecommerce.orders import repository  # deferred: pynamodb, not paid at face import

    return repository.index_settlements()


def commerce_settings() -> CommerceSettings:
    """The commerce settings (payment window, provider endpoints and timeouts, notification ages)."""
    return get_commerce_settings()


# -- lottery prizes (engagement): zero-amount orders born paid, shipped like any order (orders.prizes) --

def add_prize_order(tx: Tx, *, lottery_id: str, rank: int, user_id: str, room_id: str, prize_kind: str,
                    name: str, address: dict, product_id: str | None = None) -> str:
    """Add to `tx` the winner's prize order (one per lottery and winner; a product prize takes one unit
    of the product's stock); returns the order id. Never GMV, never reconciled, never refunded."""
    from livecommerce.orders import prizes  # deferred: pynamodb, not paid at face import

    return prizes.add_prize_order(tx, lottery_id=lottery_id, rank=rank, user_id=user_id, room_id=room_id,
                                  prize_kind=prize_kind, name=name, address=address, product_id=product_id)


def prize_order_failure(exc: TxCancelled) -> str | None:
    """Why the prize order's part of a cancelled transaction failed: "out_of_stock", "already_ordered", or None."""
    from livecommerce.orders import prizes  # deferred: pynamodb, not paid at face import

    return prizes.failure(exc)


def prize_order_of(lottery_id: str, user_id: str) -> str | None:
    """The winner's prize order id, if it exists."""
    from livecommerce.orders import prizes  # deferred: pynamodb, not paid at face import

    return prizes.prize_order_of(lottery_id, user_id)


def prize_shipping(order_ids: list[str]) -> dict[str, PrizeShipping]:
    """Prize orders' shipping states (to ship, shipped, delivered), by order id."""
    from livecommerce.orders import prizes  # deferred: pynamodb, not paid at face import

    return prizes.shipping(order_ids)


# -- gifts for points (marketing's redemptions): zero-amount orders born paid (orders.points_gifts) --

def add_points_gift_order(tx: Tx, *, user_id: str, product_id: str, name: str, image: str | None, quantity: int,
                          points_price: int, address: dict, order_id: str | None = None) -> str:
    """Add to `tx` a points-gift order born paid at zero fen (shipped by an operator, cancelled by the
    buyer before shipping: points and stock back) and take `quantity` units of the product's stock
    (fails under catalog.stock_label(product_id) when short); returns the order id. Never GMV, never
    reconciled, never refunded in money."""
    from livecommerce.orders import points_gifts  # deferred: pynamodb, not paid at face import

    return points_gifts.add_points_gift_order(tx, user_id=user_id, product_id=product_id, name=name, image=image,
                                              quantity=quantity, points_price=points_price, address=address,
                                              order_id=order_id)


def points_gift_failure(exc: TxCancelled) -> str | None:
    """Why the points-gift order's part of a cancelled transaction failed: "out_of_stock" or None."""
    from livecommerce.orders import points_gifts  # deferred: pynamodb, not paid at face import

    return points_gifts.failure(exc)


def points_gift_order(order_id: str) -> PointsGiftOrder | None:
    """A points-gift order's state (paid = to ship, shipped, delivered, cancelled), or None."""
    from livecommerce.orders import points_gifts  # deferred: pynamodb, not paid at face import

    return points_gifts.find(order_id)

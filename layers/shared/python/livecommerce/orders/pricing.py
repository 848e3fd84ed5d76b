"""Order pricing as plain functions. Prices come from the server's presets and
flash sales, never from the client; money is integer fen throughout."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from livecommerce.marketing import MIN_PAYABLE, CouponTerms, best_coupon, discount, unusable_reason
from livecommerce.orders.money import fen_from_yuan_text, yuan_text

MAX_ORDER_TOTAL = 5_000_000_00   # 5,000,000 yuan: above any single mini-program payment limit


@dataclass(frozen=True)
class Line:
    product_id: str
    unit_price: int
    quantity: int

    @property
    def total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Quote:
    subtotal: int
    discount: int
    total: int
    coupon_id: str | None


class CouponRejected(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def subtotal(lines: Iterable[Line]) -> int:
    return sum(line.total for line in lines)


def quote(lines: Sequence[Line], coupons: Iterable[CouponTerms], *, room_id: str, now: datetime,
          coupon_id: str | None = None, auto_coupon: bool = True) -> Quote:
    """Price an order. A named coupon must apply (CouponRejected otherwise); with none named
    the best applicable coupon is used unless `auto_coupon` is False."""
    if not lines or any(line.quantity <= 0 or line.unit_price <= 0 for line in lines):
        raise ValueError("an order needs lines with positive quantity and price")
    sub = subtotal(lines)
    coupons = list(coupons)
    chosen: CouponTerms | None = None
    if coupon_id is not None:
        chosen = next((c for c in coupons if c.coupon_id == coupon_id), None)
        if chosen is None:
            raise CouponRejected("coupon_not_found")
        reason = unusable_reason(chosen, subtotal=sub, room_id=room_id, now=now)
        if reason:
            raise CouponRejected(reason)
    elif auto_coupon:
        chosen = best_coupon(coupons, subtotal=sub, room_id=room_id, now=now)
    off = discount(chosen, sub) if chosen else 0
    return Quote(subtotal=sub, discount=off, total=sub - off, coupon_id=chosen.coupon_id if chosen else None)


__all__ = ["Line", "Quote", "CouponRejected", "MIN_PAYABLE", "subtotal", "quote", "yuan_text",
           "fen_from_yuan_text", "MAX_ORDER_TOTAL"]

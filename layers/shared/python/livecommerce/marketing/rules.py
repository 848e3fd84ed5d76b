"""Coupon rules as plain functions: which coupon applies to an order and how much it takes off.

A threshold coupon (满减) takes `amount` off an order whose subtotal reaches
`threshold`; a no-threshold coupon takes `amount` off any order. A coupon may
be limited to one room. No coupon makes an order free: the payable total
stays at least MIN_PAYABLE fen (WeChat Pay and Alipay take no zero amounts).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Literal

MIN_PAYABLE = 1
Kind = Literal["threshold", "no_threshold"]


@dataclass(frozen=True)
class CouponTerms:
    coupon_id: str
    kind: Kind
    amount: int
    threshold: int
    valid_from: datetime
    valid_until: datetime
    room_id: str | None = None


def unusable_reason(terms: CouponTerms, *, subtotal: int, room_id: str, now: datetime) -> str | None:
    """Why the coupon cannot apply to this order (a stable code), or None when it can."""
    if now < terms.valid_from:
        return "coupon_not_yet_valid"
    if now >= terms.valid_until:
        return "coupon_expired"
    if terms.room_id is not None and terms.room_id != room_id:
        return "coupon_wrong_room"
    if terms.kind == "threshold" and subtotal < terms.threshold:
        return "coupon_threshold_not_met"
    if subtotal <= MIN_PAYABLE:
        return "coupon_threshold_not_met"
    return None


def discount(terms: CouponTerms, subtotal: int) -> int:
    """Fen taken off `subtotal` by a coupon that applies (never below MIN_PAYABLE left to pay)."""
    return max(0, min(terms.amount, subtotal - MIN_PAYABLE))


def best_coupon(coupons: Iterable[CouponTerms], *, subtotal: int, room_id: str, now: datetime) -> CouponTerms | None:
    """The applicable coupon that takes the most off; ties go to the one expiring first."""
    usable = [c for c in coupons if unusable_reason(c, subtotal=subtotal, room_id=room_id, now=now) is None]
    if not usable:
        return None
    return min(usable, key=lambda c: (-discount(c, subtotal), c.valid_until, c.coupon_id))


def check_template(kind: Kind, amount: int, threshold: int) -> str | None:
    """Why these terms make no sense, or None."""
    if amount <= 0:
        return "amount must be positive"
    if kind == "threshold" and threshold <= amount:
        return "a threshold coupon's threshold must exceed its amount (满 threshold 减 amount)"
    if kind == "no_threshold" and threshold != 0:
        return "a no-threshold coupon has threshold 0"
    return None

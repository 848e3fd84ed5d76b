"""Marketing rules as plain functions: coupons, drops, claims, points. No I/O.

A threshold coupon (满减) takes `amount` off an order whose subtotal reaches
`threshold`; a no-threshold coupon takes `amount` off any order. A coupon may
be limited to one room. No coupon makes an order free: the payable total
stays at least MIN_PAYABLE fen (WeChat Pay and Alipay take no zero amounts).
A viewer holds at most a template's `per_user_limit` of its coupons; a points
balance never goes below zero.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Literal

from pydantic import BaseModel, ConfigDict

MIN_PAYABLE = 1
Kind = Literal["threshold", "no_threshold"]


class CouponTerms(BaseModel):
    """What an order needs to know about a coupon the viewer holds (marketing's face hands these out)."""

    model_config = ConfigDict(frozen=True)

    coupon_id: str
    kind: Kind
    amount: int
    threshold: int
    valid_from: datetime
    valid_until: datetime
    room_id: str | None = None


# -- coupons on an order --------------------------------------------------------------

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


# -- templates, drops, coupons held --------------------------------------------------

def check_template(kind: Kind, amount: int, threshold: int) -> str | None:
    """Why these terms make no sense, or None."""
    if amount <= 0:
        return "amount must be positive"
    if kind == "threshold" and threshold <= amount:
        return "a threshold coupon's threshold must exceed its amount (满 threshold 减 amount)"
    if kind == "no_threshold" and threshold != 0:
        return "a no-threshold coupon has threshold 0"
    return None


def drop_state(*, drops_at: datetime, valid_until: datetime | None, left: int, now: datetime) -> str:
    """scheduled (before its moment), ended (its coupons expired), exhausted (none left) or open."""
    if now < drops_at:
        return "scheduled"
    if valid_until is not None and now >= valid_until:
        return "ended"
    return "exhausted" if left <= 0 else "open"


def coupon_state(state: str, *, valid_until: datetime, now: datetime) -> str:
    """A held coupon's state as the viewer sees it: an available one past its validity is expired."""
    if state == "available" and now >= valid_until:
        return "expired"
    return state


def coupon_validity(*, valid_from: datetime | None, valid_until: datetime | None, valid_days: int | None,
                    now: datetime) -> tuple[datetime, datetime]:
    """When a coupon issued now is valid: the template's window, or `valid_days` from now."""
    start = valid_from or now
    if valid_until is not None:
        return start, valid_until
    if not valid_days:
        raise ValueError("a template has valid_until or valid_days")
    return start, now + timedelta(days=int(valid_days))


def may_hold_another(held: int, per_user_limit: int) -> bool:
    """One more coupon of a template for a viewer who holds `held` of it (the claim counter's condition)."""
    return held < per_user_limit


# -- points ----------------------------------------------------------------------------

def points_for(total_fen: int, points_per_yuan: int) -> int:
    """Points earned by a paid order: whole yuan paid times the rate."""
    return max(0, total_fen // 100) * max(0, points_per_yuan)


def balance_after(balance: int, delta: int) -> int | None:
    """The balance after a change, or None when it would go below zero (the change is refused)."""
    after = balance + delta
    return after if after >= 0 else None


def points_to_reverse(*, total: int, refunded_total: int, amount: int, points_per_yuan: int) -> int:
    """Points to take back for a refund of `amount` fen that brought the order's refunds to
    `refunded_total` of `total`: the earned points in proportion to the money refunded, counted
    cumulatively (floor of earned x refunded / total, minus what earlier refunds took), so any
    split of refunds takes back exactly the earned points once the whole order is refunded."""
    if total <= 0 or amount <= 0:
        return 0
    refunded_total = min(refunded_total, total)
    before = max(0, refunded_total - amount)
    earned = points_for(total, points_per_yuan)
    return earned * refunded_total // total - earned * before // total


def coupon_returns(*, order_state: str, stock_returned: bool, coupon_valid_until: str, now: datetime) -> bool:
    """Whether a refund gives the order's coupon back: only a full refund before shipping (the
    sale did not happen) while the coupon is still valid; a partial or after-delivery refund keeps it used."""
    if order_state != "refunded" or not stock_returned:
        return False
    return datetime.fromisoformat(coupon_valid_until.replace("Z", "+00:00")) > now


# -- gifts for points (marketing.gifts) ----------------------------------------------------

DEFAULT_GIFT_LIMIT = 1       # units of one gift a viewer may hold through redemptions, unless the product says


def gift_cost(points_price: int, quantity: int) -> int:
    """Points a redemption of `quantity` units spends (all of them, at the product's price then)."""
    return int(points_price) * int(quantity)


def gift_refusal(*, points_price: int | None, quantity: int, limit: int | None, held: int, balance: int,
                 stock: int) -> str | None:
    """Why a redemption of `quantity` units is refused, or None: `not_a_gift` (no points price),
    `gift_limit_reached` (the viewer would hold more than the limit), `insufficient_points` (the
    balance would go below zero), `gift_out_of_stock` (the product's stock would go below zero).
    The transaction states the same conditions on the items themselves (marketing.gifts)."""
    if not points_price or points_price <= 0:
        return "not_a_gift"
    if quantity < 1 or held + quantity > (limit or DEFAULT_GIFT_LIMIT):
        return "gift_limit_reached"
    if balance < gift_cost(points_price, quantity):
        return "insufficient_points"
    if stock < quantity:
        return "gift_out_of_stock"
    return None

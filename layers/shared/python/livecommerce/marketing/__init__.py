"""Marketing: coupon templates, drops and claims, share rewards, the points ledger.

The public face: what other contexts (orders, payments, the commerce schedule)
may call. Coupons cross as `CouponTerms` (marketing's own pydantic type); where
an order's DynamoDB transaction spans contexts, the functions below add
marketing's own items to the caller's `Tx` under a label, and `coupon_failed`
reads that label back from a cancelled transaction.

Importing this package stays light (no pynamodb or botocore; its pydantic types only): the
manifest reads `livecommerce.marketing.spec` and the marketing handler imports
the router, which load it. The functions that touch storage load the service
when first called.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable

from livecommerce.marketing.rules import MIN_PAYABLE, CouponTerms, best_coupon, discount, points_for, unusable_reason

if TYPE_CHECKING:
    from livecommerce.shared.timers import StepResult
    from livecommerce.shared.tx import Tx, TxCancelled

__all__ = [
    "MIN_PAYABLE", "CouponTerms", "best_coupon", "discount", "points_for", "unusable_reason",
    "usable_coupons", "holds_coupon", "best_coupon_for",
    "lock_coupon", "release_coupon", "use_coupon", "coupon_failed", "COUPON_LABEL",
    "award_points", "return_gift_points", "publish_due_drops", "run_drop", "sweep_outbox",
]

COUPON_LABEL = "coupon"




def _service():
    from livecommerce.marketing import service  # deferred: pynamodb/botocore, not paid at face import

    return service


def _repository():
    from livecommerce.marketing import repository  # deferred: pynamodb/botocore, not paid at face import

    return repository


# -- coupons on an order ----------------------------------------------------------------

def usable_coupons(user_id: str) -> list[CouponTerms]:
    """The viewer's coupons that are neither locked by an order nor used (read consistently);
    whether one applies to an order is for the rules (`unusable_reason`, `best_coupon`)."""
    service = _service()
    return [service.coupon_terms(item) for item in service.usable_coupons(user_id)]


def holds_coupon(user_id: str, coupon_id: str) -> bool:
    """Whether the coupon is in the viewer's coupon centre at all (whatever its state)."""
    return _repository().get_coupon(user_id, coupon_id) is not None


def best_coupon_for(user_id: str, *, subtotal: int, room_id: str, now: datetime) -> CouponTerms | None:
    """The viewer's usable coupon that takes the most off this order, or None."""
    return best_coupon(usable_coupons(user_id), subtotal=subtotal, room_id=room_id, now=now)


def lock_coupon(tx: "Tx", user_id: str, coupon_id: str, order_id: str, *, label: str = COUPON_LABEL) -> None:
    """Add to `tx`: the coupon becomes held by the order (fails under `label` unless it is available)."""
    _repository().add_lock(tx, user_id, coupon_id, order_id, label=label)


def release_coupon(tx: "Tx", user_id: str, coupon_id: str, order_id: str, *, label: str = COUPON_LABEL) -> None:
    """Add to `tx`: the order's held coupon is available again (fails under `label` unless this order holds it)."""
    _repository().add_unlock(tx, user_id, coupon_id, order_id, label=label)


def use_coupon(tx: "Tx", user_id: str, coupon_id: str, order_id: str, used_at: str, *,
               label: str = COUPON_LABEL) -> None:
    """Add to `tx`: the order's held coupon is used (fails under `label` unless this order holds it)."""
    _repository().add_use(tx, user_id, coupon_id, order_id, used_at, label=label)


def coupon_failed(exc: "TxCancelled", *, label: str = COUPON_LABEL) -> bool:
    """Whether a cancelled transaction failed on the coupon item marketing added under `label`."""
    return label in exc


# -- points -----------------------------------------------------------------------------

def award_points(user_id: str, points: int, *, reason: str, ref: str) -> bool:
    """Add points once per `ref` (an order, a quiz answer...). False when already awarded or not positive."""
    return _service().award_points(user_id, points, reason=reason, ref=ref)


def return_gift_points(tx: "Tx", user_id: str, *, order_id: str, points: int, product_id: str,
                       quantity: int) -> Callable[[], None]:
    """Add to `tx` (orders, when the buyer cancels a points-gift order before shipping): the points back
    to the balance with a ledger entry (reason `gift_returned`) and the units off the viewer's per-user
    count, once per order (fails under "gift_return" when already returned). Returns what to run after
    the commit (marketing's outbox flush)."""
    from livecommerce.marketing import gift_ledger  # deferred: pynamodb/botocore, not paid at face import

    return gift_ledger.add_return(tx, user_id, order_id=order_id, points=points, product_id=product_id,
                                  quantity=quantity)


# -- scheduled jobs (the commerce schedule and timers) ------------------------------------

def publish_due_drops(now: datetime | None = None) -> int:
    """The minute tick: announce drops whose timer was lost; ask for timers for the next minute's."""
    return _service().publish_due_drops(now)


def run_drop(drop_id: str, now: datetime) -> "StepResult":
    """A coupon-drop timer's step: announce the drop once its moment has come, once."""
    return _service().run_drop(drop_id, now)


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    """Publish marketing events stranded between commit and flush."""
    return _repository().sweep_outbox(older_than_seconds=older_than_seconds)


# -- prizes (engagement lotteries) ---------------------------------------------------------

def grant_coupon(user_id: str, template_id: str, *, ref: str) -> str:
    """Issue one coupon of the template into the user's coupon centre, once per `ref`; its id
    (the same on a retry). Conflict template_exhausted / template_expired / claim_limit_reached."""
    from livecommerce.marketing import grants  # deferred: pynamodb/botocore, not paid at face import

    return grants.grant_coupon(user_id, template_id, ref=ref)


def coupon_template_exists(template_id: str) -> bool:
    return _repository().get_template(template_id) is not None


def has_shared(room_id: str, user_id: str) -> bool:
    """Whether the viewer made a share code for the room (POST /v1/rooms/{room_id}/shares)."""
    from livecommerce.marketing import grants  # deferred: pynamodb/botocore, not paid at face import

    return grants.has_shared(room_id, user_id)

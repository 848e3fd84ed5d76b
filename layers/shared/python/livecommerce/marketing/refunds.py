"""What a refund undoes in marketing (orders' OrderRefunded, once per refund id).

Points: the order's earned points come back in proportion to the money refunded
(rules.points_to_reverse), at most what the buyer still holds (points already spent stay
spent: the ledger shows what was taken). Coupon: a full refund before shipping gives the
order's coupon back while it is still valid (rules.coupon_returns). Both are keyed so a
repeated delivery changes nothing: the points by the ledger reference `refund:<refund id>`,
the coupon by its state (only a coupon used by this very order is given back).
"""
from __future__ import annotations

from livecommerce.marketing import repository
from livecommerce.marketing.events import PointsChanged
from livecommerce.marketing.storage import CouponItem, LedgerItem, PointsItem, PointsRefItem, bind_all
from livecommerce.shared.clock import iso, utcnow
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.tx import Tx, TxCancelled

MAX_ATTEMPTS = 5


def take_back_points(user_id: str, points: int, *, reason: str, ref: str) -> int | None:
    """Take back up to `points` (never below a zero balance), once per `ref`. The points taken,
    or None when `ref` was applied before."""
    bind_all()
    for _ in range(MAX_ATTEMPTS):
        balance = repository.get_points(user_id)
        taken = max(0, min(points, balance))
        entry_id = new_ulid()
        tx = Tx()
        tx.put("ref", PointsRefItem(*PointsRefItem.key(user_id, ref), entry_id=entry_id),
               PointsRefItem.pk.does_not_exist())
        if taken:
            tx.update("balance", PointsItem(*PointsItem.key(user_id)), [PointsItem.balance.add(-taken)],
                      PointsItem.balance >= taken)
            tx.put("ledger", LedgerItem(*LedgerItem.key(user_id, entry_id), entry_id=entry_id, delta=-taken,
                                        reason=reason, ref=ref, created_at=iso(utcnow())))
            pk = f"USER#{user_id}"
            for event in repository.outbox_items(pk, [PointsChanged(user_id=user_id, delta=-taken, reason=reason,
                                                                    ref=ref)]):
                tx.put("outbox", event)
        try:
            tx.commit()
        except TxCancelled as exc:
            if "ref" in exc:
                return None
            continue                                  # the balance moved: read it again
        if taken:
            repository.flush_outbox(f"USER#{user_id}")
        return taken
    raise RuntimeError("points balance kept changing")   # the delivery is retried


def give_coupon_back(user_id: str, coupon_id: str, order_id: str) -> bool:
    """The coupon this order used is available again (False when it is not used by this order:
    given back already, or never used by it)."""
    bind_all()
    tx = Tx()
    tx.update("coupon", CouponItem(*CouponItem.key(user_id, coupon_id)),
              [CouponItem.state.set("available"), CouponItem.order_id.remove(), CouponItem.used_at.remove()],
              (CouponItem.state == "used") & (CouponItem.order_id == order_id))
    try:
        tx.commit()
    except TxCancelled:
        return False
    return True

"""Marketing's items for a gift for points, added to the caller's `Tx` (no orders import here: the
orders face calls `add_return` through marketing's face when the buyer cancels a points-gift order).

A redemption's part: the balance debited (never below zero: the update's condition), a ledger entry
(reason `gift_redemption`, ref the order id), the viewer's units of that gift counted against the
per-user limit, and `PointsChanged` + `GiftRedeemed` in the outbox.
A cancel's part: a return reference `PTSREF#gift_return:<order>` that must not exist (once), the
points back, a ledger entry (reason `gift_returned`), the units off the viewer's count, `PointsChanged`.
"""
from __future__ import annotations

from typing import Callable

from livecommerce.marketing import repository
from livecommerce.marketing.events import GiftRedeemed, PointsChanged
from livecommerce.marketing.storage import GiftCountItem, LedgerItem, PointsItem, PointsRefItem, bind_all
from livecommerce.shared.clock import now_iso
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.tx import Tx

BALANCE_LABEL = "balance"
LIMIT_LABEL = "gift_limit"
RETURN_LABEL = "gift_return"
REDEEM_REASON = "gift_redemption"
RETURN_REASON = "gift_returned"


def _pk(user_id: str) -> str:
    return f"USER#{user_id}"


def add_spend(tx: Tx, user_id: str, *, order_id: str, product_id: str, quantity: int, points: int,
              limit: int) -> Callable[[], None]:
    """Debit `points` (fails under "balance" when short), count `quantity` units against `limit` (fails
    under "gift_limit"); returns what to run after the commit (the outbox flush)."""
    bind_all()
    entry_id = new_ulid()
    tx.update(BALANCE_LABEL, PointsItem(*PointsItem.key(user_id)), [PointsItem.balance.add(-points)],
              PointsItem.balance >= points)
    tx.put("ledger", LedgerItem(*LedgerItem.key(user_id, entry_id), entry_id=entry_id, delta=-points,
                                reason=REDEEM_REASON, ref=order_id, created_at=now_iso()))
    tx.update(LIMIT_LABEL, GiftCountItem(*GiftCountItem.key(user_id, product_id)), [GiftCountItem.count.add(quantity)],
              GiftCountItem.count.does_not_exist() | (GiftCountItem.count <= limit - quantity))
    pk = _pk(user_id)
    for event in repository.outbox_items(pk, [
            PointsChanged(user_id=user_id, delta=-points, reason=REDEEM_REASON, ref=order_id),
            GiftRedeemed(user_id=user_id, product_id=product_id, quantity=quantity, points=points,
                         order_id=order_id)]):
        tx.put("outbox", event)
    return lambda: repository.flush_outbox(pk)


def add_return(tx: Tx, user_id: str, *, order_id: str, points: int, product_id: str,
               quantity: int) -> Callable[[], None]:
    """Give a cancelled points-gift order's points back, once per order (fails under "gift_return"
    when already given); returns what to run after the commit."""
    bind_all()
    entry_id = new_ulid()
    ref = f"gift_return:{order_id}"
    tx.put(RETURN_LABEL, PointsRefItem(*PointsRefItem.key(user_id, ref), entry_id=entry_id),
           PointsRefItem.pk.does_not_exist())
    tx.update("balance_return", PointsItem(*PointsItem.key(user_id)), [PointsItem.balance.add(points)])
    tx.put("ledger_return", LedgerItem(*LedgerItem.key(user_id, entry_id), entry_id=entry_id, delta=points,
                                       reason=RETURN_REASON, ref=order_id, created_at=now_iso()))
    tx.update("gift_count_return", GiftCountItem(*GiftCountItem.key(user_id, product_id)),
              [GiftCountItem.count.add(-quantity)], GiftCountItem.count >= quantity)
    pk = _pk(user_id)
    for event in repository.outbox_items(pk, [PointsChanged(user_id=user_id, delta=points, reason=RETURN_REASON,
                                                            ref=order_id)]):
        tx.put("outbox", event)
    return lambda: repository.flush_outbox(pk)

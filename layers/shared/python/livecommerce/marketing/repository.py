"""Marketing data access: templates, drops, coupons, shares, points, the marketing outbox."""
from __future__ import annotations

import time
from typing import Iterable

from pynamodb.exceptions import DoesNotExist

from livecommerce.marketing.storage import (ArrivalItem, CouponItem, DropItem, RoomDropItem,
                                            LedgerItem, MarketingOutboxItem, PointsItem, RoomShareRewardItem,
                                            ShareItem, SharerItem, TemplateItem, bind_all)
from livecommerce.shared.tx import Tx
from livecommerce.shared import outbox, paging

DROP_PENDING = "DROPSTART#pending"


OUTBOX = outbox.Outbox(MarketingOutboxItem, shards=16, bind=bind_all)


outbox_items = OUTBOX.items


def _get(model, *key, consistent: bool = False):
    bind_all()
    try:
        return model.get(*key, consistent_read=consistent)
    except DoesNotExist:
        return None


def get_template(template_id: str, *, consistent: bool = False) -> TemplateItem | None:
    return _get(TemplateItem, *TemplateItem.key(template_id), consistent=consistent)


def get_drop(drop_id: str, *, consistent: bool = False) -> DropItem | None:
    return _get(DropItem, *DropItem.key(drop_id), consistent=consistent)


def get_coupon(user_id: str, coupon_id: str, *, consistent: bool = True) -> CouponItem | None:
    return _get(CouponItem, *CouponItem.key(user_id, coupon_id), consistent=consistent)


def get_share(code: str) -> ShareItem | None:
    return _get(ShareItem, *ShareItem.key(code))


def get_sharer(room_id: str, user_id: str) -> SharerItem | None:
    return _get(SharerItem, *SharerItem.key(room_id, user_id), consistent=True)


def get_arrival(room_id: str, invitee_id: str) -> ArrivalItem | None:
    return _get(ArrivalItem, *ArrivalItem.key(room_id, invitee_id), consistent=True)


def get_room_share_reward(room_id: str) -> RoomShareRewardItem | None:
    return _get(RoomShareRewardItem, *RoomShareRewardItem.key(room_id), consistent=True)


def get_points(user_id: str) -> int:
    found = _get(PointsItem, *PointsItem.key(user_id), consistent=True)
    return int(found.balance) if found else 0


# A user's coupons and points ledger share a partition (USER#<id>): each cursor names its list.
COUPONS_OF_USER = paging.listing("marketing/coupons-of-user", key_attributes=("pk", "sk"), partition_attribute="pk")
LEDGER_OF_USER = paging.listing("marketing/ledger-of-user", key_attributes=("pk", "sk"), partition_attribute="pk")


def coupons_of(user_id: str, *, limit: int | None = None, cursor: str | None = None,
               consistent: bool = False) -> tuple[list[CouponItem], str | None]:
    bind_all()
    partition = f"USER#{user_id}"
    start = paging.decode(cursor, COUPONS_OF_USER, partition=partition, owner=user_id)
    result = CouponItem.query(partition, CouponItem.sk.startswith("COUPON#"), limit=limit,
                              last_evaluated_key=start, scan_index_forward=False, consistent_read=consistent)
    items = list(result)
    if not limit:
        return items, None
    return items, paging.encode(result.last_evaluated_key, COUPONS_OF_USER, partition=partition, owner=user_id)


# A room's drops, newest first (GET /v1/rooms/{room_id}/coupon-drops).
DROPS_OF_ROOM = paging.listing("marketing/drops-of-room", key_attributes=("pk", "sk"), partition_attribute="pk")


def drops_of_room(room_id: str, *, limit: int, cursor: str | None) -> tuple[list[DropItem], str | None]:
    """The room's drops (each read whole, with what is left now), newest first; and the next cursor."""
    bind_all()
    partition = RoomDropItem.key(room_id, "")[0]
    start = paging.decode(cursor, DROPS_OF_ROOM, partition=partition, owner=None)
    result = RoomDropItem.query(partition, RoomDropItem.sk.startswith("CDROP#"), limit=limit,
                                last_evaluated_key=start, scan_index_forward=False)
    ids = [entry.drop_id for entry in result]
    found = {item.drop_id: item for item in DropItem.batch_get([DropItem.key(i) for i in ids])} if ids else {}
    return ([found[i] for i in ids if i in found],
            paging.encode(result.last_evaluated_key, DROPS_OF_ROOM, partition=partition, owner=None))


def ledger_of(user_id: str, *, limit: int, cursor: str | None) -> tuple[list[LedgerItem], str | None]:
    bind_all()
    partition = f"USER#{user_id}"
    start = paging.decode(cursor, LEDGER_OF_USER, partition=partition, owner=user_id)
    result = LedgerItem.query(partition, LedgerItem.sk.startswith("PTS#"), limit=limit,
                              last_evaluated_key=start, scan_index_forward=False)
    items = list(result)
    return items, paging.encode(result.last_evaluated_key, LEDGER_OF_USER, partition=partition, owner=user_id)


def due_drops(*, limit: int = 100, now_epoch: float | None = None) -> list[DropItem]:
    """Scheduled drops not announced yet whose moment falls in the second of `now_epoch` or
    earlier (the index holds whole seconds: callers check the exact time)."""
    bind_all()
    now_key = f"{int(now_epoch if now_epoch is not None else time.time()):012d}~"
    return list(DropItem.pending.query(DROP_PENDING, DropItem.gsi1sk < now_key, limit=limit))


flush_outbox = OUTBOX.flush


sweep_outbox = OUTBOX.sweep


# -- coupon holds (used inside the orders transactions) ------------------------------

def add_lock(tx: Tx, user_id: str, coupon_id: str, order_id: str, *, label: str = "coupon") -> None:
    bind_all()
    tx.update(label, CouponItem(*CouponItem.key(user_id, coupon_id)),
              [CouponItem.state.set("locked"), CouponItem.order_id.set(order_id)],
              CouponItem.pk.exists() & (CouponItem.state == "available"))


def add_unlock(tx: Tx, user_id: str, coupon_id: str, order_id: str, *, label: str = "coupon") -> None:
    bind_all()
    tx.update(label, CouponItem(*CouponItem.key(user_id, coupon_id)),
              [CouponItem.state.set("available"), CouponItem.order_id.remove()],
              (CouponItem.state == "locked") & (CouponItem.order_id == order_id))


def add_use(tx: Tx, user_id: str, coupon_id: str, order_id: str, used_at: str, *, label: str = "coupon") -> None:
    bind_all()
    tx.update(label, CouponItem(*CouponItem.key(user_id, coupon_id)),
              [CouponItem.state.set("used"), CouponItem.used_at.set(used_at)],
              (CouponItem.state == "locked") & (CouponItem.order_id == order_id))

"""Orders data access: orders, payments, settlements, flash sales, the orders outbox."""
from __future__ import annotations

from typing import Iterable

from pynamodb.exceptions import DoesNotExist, PutError

from livecommerce.orders.storage import (FlashSaleItem, FlashShardItem, OrderItem, OrdersOutboxItem, PaymentItem,
                                         bind_all)
from livecommerce.shared import dynamo, outbox, paging

EXPIRY_SHARDS = 16
SALE_START_PENDING = "FLASHSTART#pending"     # the sparse index of sales with a timed step ahead


def expiry_keys(order_id: str, pay_by_epoch: int) -> tuple[str, str]:
    return f"EXPIRY#{outbox.shard_of(order_id, EXPIRY_SHARDS)}", f"{pay_by_epoch:012d}#{order_id}"


OUTBOX = outbox.Outbox(OrdersOutboxItem, shards=16, bind=bind_all)


outbox_items = OUTBOX.items


def get_order(order_id: str, *, consistent: bool = True) -> OrderItem | None:
    bind_all()
    try:
        return OrderItem.get(*OrderItem.key(order_id), consistent_read=consistent)
    except DoesNotExist:
        return None


ORDERS_OF_BUYER = paging.listing("orders/of-buyer", key_attributes=("pk", "sk", "gsi2pk", "gsi2sk"),
                                  partition_attribute="gsi2pk")


def orders_of_user(user_id: str, *, limit: int, cursor: str | None) -> tuple[list[OrderItem], str | None]:
    bind_all()
    partition = f"USER#{user_id}"
    start = paging.decode(cursor, ORDERS_OF_BUYER, partition=partition, owner=user_id)
    result = OrderItem.by_buyer.query(partition, limit=limit, last_evaluated_key=start,
                                      scan_index_forward=False)
    items = list(result)
    return items, paging.encode(result.last_evaluated_key, ORDERS_OF_BUYER, partition=partition, owner=user_id)


def overdue_orders(shard: int, *, before_epoch: int, limit: int = 100) -> list[OrderItem]:
    bind_all()
    return list(OrderItem.by_expiry.query(f"EXPIRY#{shard}", OrderItem.gsi1sk < f"{before_epoch:012d}~",
                                          limit=limit))


def get_payment(order_id: str, channel: str) -> PaymentItem | None:
    bind_all()
    try:
        return PaymentItem.get(*PaymentItem.key(order_id, channel), consistent_read=True)
    except DoesNotExist:
        return None


def put_payment(item: PaymentItem) -> None:
    bind_all()
    try:
        item.save()
    except PutError as exc:
        dynamo.raise_if_retryable(exc)
        raise


# -- flash sales --------------------------------------------------------------------

def get_sale(sale_id: str, *, consistent: bool = False) -> FlashSaleItem | None:
    bind_all()
    try:
        return FlashSaleItem.get(*FlashSaleItem.key(sale_id), consistent_read=consistent)
    except DoesNotExist:
        return None


def sales_of_room(room_id: str, *, limit: int = 50) -> list[FlashSaleItem]:
    bind_all()
    return list(FlashSaleItem.by_room.query(f"ROOMFLASH#{room_id}", limit=limit, scan_index_forward=False))


def shard_lefts(sale_id: str, shards: int) -> list[int]:
    bind_all()
    keys = [FlashShardItem.key(sale_id, k) for k in range(shards)]
    return [int(item.left) for item in FlashShardItem.batch_get(keys)]


def pending_sale_steps(*, before_epoch: float, limit: int = 100) -> list[FlashSaleItem]:
    """Sales with a timed step (countdown, start, end) due in the second of `before_epoch` or
    earlier; the index holds whole seconds, so callers check the exact time (flash.next_step)."""
    bind_all()
    return list(FlashSaleItem.start_pending.query(
        SALE_START_PENDING, FlashSaleItem.gsi1sk < f"{int(before_epoch):012d}~", limit=limit))


flush_outbox = OUTBOX.flush


# Publish the events just committed for a new aggregate (nothing older can be queued under it).
flush_new = OUTBOX.flush_items


sweep_outbox = OUTBOX.sweep

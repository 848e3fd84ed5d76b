"""Orders data access: orders, payments, settlements, flash sales, the orders outbox."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterable

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from livecommerce.orders.storage import (FlashSaleItem, FlashShardItem, OrderItem, OrdersOutboxItem, PaymentItem,
                                         SettlementItem, bind_all)
from livecommerce.shared import dynamo, outbox, paging

EXPIRY_SHARDS = 16
SALE_START_PENDING = "FLASHSTART#pending"     # the sparse index of sales with a timed step ahead


def expiry_keys(order_id: str, pay_by_epoch: int) -> tuple[str, str]:
    return f"EXPIRY#{outbox.shard_of(order_id, EXPIRY_SHARDS)}", f"{pay_by_epoch:012d}#{order_id}"


# A room's orders (gsi3), spread over shards: a flash sale's buys arrive together, and one index
# partition takes about 1000 writes a second.
ROOM_ORDER_SHARDS = 16


def room_order_keys(room_id: str, order_id: str) -> tuple[str, str]:
    return f"ROOMORDER#{room_id}#{outbox.shard_of(order_id, ROOM_ORDER_SHARDS)}", order_id


# The cursor of a room's orders is the last order id given (ids are ULIDs, so "older than" is
# "less than"); it is signed like any DynamoDB start key, bound to the room and the list.
ORDERS_OF_ROOM = paging.listing("orders/of-room", key_attributes=("room", "before"), partition_attribute="room")


def orders_of_room(room_id: str, *, limit: int, cursor: str | None,
                   owner: str | None) -> tuple[list[OrderItem], str | None]:
    """A room's orders, newest first: every shard asked for up to `limit` orders older than the
    cursor, the newest `limit` of them kept. The next cursor exists when more may follow."""
    bind_all()
    partition = f"ROOMORDER#{room_id}"
    start = paging.decode(cursor, ORDERS_OF_ROOM, partition=partition, owner=owner)
    before = start["before"]["S"] if start else None
    found: list[OrderItem] = []
    more = False
    for shard in range(ROOM_ORDER_SHARDS):
        condition = OrderItem.gsi3sk < before if before else None
        result = OrderItem.by_room.query(f"{partition}#{shard}", condition, limit=limit, scan_index_forward=False)
        items = list(result)
        found.extend(items)
        more = more or result.last_evaluated_key is not None
    found.sort(key=lambda item: item.order_id, reverse=True)
    page, rest = found[:limit], found[limit:]
    if not page or not (rest or more):
        return page, None
    last = {"room": {"S": partition}, "before": {"S": page[-1].order_id}}
    return page, paging.encode(last, ORDERS_OF_ROOM, partition=partition, owner=owner)


OUTBOX = outbox.Outbox(OrdersOutboxItem, shards=16, bind=bind_all)

# Settlements by the day the provider took the money, in Beijing time (the day of the providers'
# bills), spread over a few index partitions (a sale's payments arrive together).
SETTLEMENT_SHARDS = 4
BEIJING = timezone(timedelta(hours=8))


def bill_day(paid_at: str) -> str:
    """The provider's bill day (Beijing time) of an ISO 8601 moment (UTC when it names no offset)."""
    moment = datetime.fromisoformat(paid_at.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(BEIJING).date().isoformat()


def settlement_day_keys(channel: str, transaction_id: str, paid_at: str) -> tuple[str, str]:
    shard = outbox.shard_of(f"{channel}#{transaction_id}", SETTLEMENT_SHARDS)
    return f"SETTLEDAY#{bill_day(paid_at)}#{shard}", f"{paid_at}#{channel}#{transaction_id}"


def settlements_of_day(day: str) -> list[SettlementItem]:
    """Every payment a provider reported whose money was taken on `day` (Beijing), applied or not."""
    bind_all()
    found: list[SettlementItem] = []
    for shard in range(SETTLEMENT_SHARDS):
        found += list(SettlementItem.by_day.query(f"SETTLEDAY#{day}#{shard}"))
    return found


def index_settlements(*, page_size: int = 500) -> int:
    """Give settlement records written before the day index their index keys (a scan; safe to run
    again: a record is updated only while it has none). The day comes from the order's payment time
    when the record is the order's applied payment, else from when it was received. How many were set."""
    bind_all()
    done = 0
    for item in SettlementItem.scan(SettlementItem.sk.startswith("TXN#") & SettlementItem.gsi1pk.does_not_exist(),
                                    page_size=page_size):
        order = get_order(item.pk.removeprefix("ORDER#"), consistent=False)
        payment = (order.payment or {}) if order is not None else {}
        paid_at = payment.get("paid_at") if payment.get("transaction_id") == item.transaction_id else None
        paid_at = str(paid_at or item.received_at)
        pk, sk = settlement_day_keys(item.channel, item.transaction_id, paid_at)
        try:
            item.update([SettlementItem.gsi1pk.set(pk), SettlementItem.gsi1sk.set(sk),
                         SettlementItem.paid_at.set(paid_at)], condition=SettlementItem.gsi1pk.does_not_exist())
        except UpdateError:
            continue                                  # indexed meanwhile (a second backfill)
        done += 1
    return done


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


def shard_lefts(sale_id: str, shards: int, *, consistent: bool = False) -> list[int]:
    bind_all()
    keys = [FlashShardItem.key(sale_id, k) for k in range(shards)]
    return [int(item.left) for item in FlashShardItem.batch_get(keys, consistent_read=consistent)]


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

"""Order rules: pricing on the server, stock holds, coupons, cancel and expiry,
and applying verified payments. No HTTP here.

An order holds its stock (and its coupon) from creation: the conditional
decrements, the coupon lock, the order, its Idempotency-Key record and its
events commit in one DynamoDB transaction. Cancelling or expiring gives them
back in one transaction conditioned on the order still being unpaid, so a
hold is released at most once whoever (buyer, sweeper, retry) gets there.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from livecommerce import catalog, marketing, rooms
from livecommerce.catalog.events import StockChanged
from livecommerce.orders import points_gifts, pricing, repository, rules
from livecommerce.orders.events import (OrderCancelled, OrderCreated, OrderExpired, OrderPaid,
                                        OrderRefundRequired)
from livecommerce.orders.models import (CreateOrderRequest, Order, OrderLine, OrderPage, PayableOrder,
                                        PaymentAttempt, PaymentInfo, PointsGiftMarker, PrizeMarker, ShipmentInfo)
from livecommerce.orders.settings import get_commerce_settings
from livecommerce.orders.storage import (FlashBuyerItem, FlashSaleItem, FlashShardItem, OrderItem, PaymentItem,
                                         SettlementItem, bind_all)
from livecommerce.shared import idempotency, problems
from livecommerce.shared.idempotency import Effect
from livecommerce.shared.outbox import Event
from livecommerce.shared.tx import Tx, TxCancelled
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import iso, now_iso, utcnow
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger

PENDING, PAID, CANCELLED, EXPIRED = rules.PENDING, rules.PAID, rules.CANCELLED, rules.EXPIRED
EXPIRY_GRACE_SECONDS = rules.EXPIRY_GRACE_SECONDS
MAX_ATTEMPTS = 4
NOTIFICATION_TTL_SECONDS = 72 * 3600
# An order whose providers could not be asked before expiry expires anyway this long after its pay-by time.
FORCE_EXPIRY_SECONDS = 3600


# -- views -------------------------------------------------------------------------

def order_view(item: OrderItem) -> Order:
    payment = PaymentInfo(**item.payment) if item.payment else None
    return Order(id=item.order_id, user_id=item.user_id, room_id=item.room_id, kind=item.kind,
                 prize=PrizeMarker(**item.prize) if item.prize else None,
                 points_gift=PointsGiftMarker(**item.points_gift) if item.points_gift else None,
                 flash_sale_id=item.flash_sale_id, lines=[OrderLine(**line) for line in item.lines],
                 subtotal=int(item.subtotal), discount=int(item.discount or 0), total=int(item.total),
                 coupon_id=item.coupon_id, address=item.address, state=item.state, pay_by=item.pay_by,
                 created_at=item.created_at, paid_at=item.paid_at, closed_at=item.closed_at, payment=payment,
                 shipment=ShipmentInfo(**item.shipment) if item.shipment else None, shipped_at=item.shipped_at,
                 confirm_by=item.confirm_by if item.shipped_at and not item.delivered_at else None,
                 delivered_at=item.delivered_at, refunded_amount=int(item.refunded_amount or 0),
                 open_after_sale=item.open_after_sale)


def order_fields(item: OrderItem) -> dict[str, Any]:
    """The order as every order event carries it (orders.events._OrderFields)."""
    return {"order_id": item.order_id, "user_id": item.user_id, "room_id": item.room_id, "kind": item.kind,
            "flash_sale_id": item.flash_sale_id, "subtotal": int(item.subtotal), "discount": int(item.discount or 0),
            "total": int(item.total), "coupon_id": item.coupon_id,
            "lines": [{"product_id": line["product_id"], "quantity": line["quantity"],
                       "unit_price": line["unit_price"]} for line in item.lines]}


def order_created(item: OrderItem) -> OrderCreated:
    return OrderCreated(**order_fields(item), pay_by=item.pay_by)


def new_order_item(*, order_id: str, user_id: str, room_id: str, kind: str, lines: list[dict], quote: pricing.Quote,
                   address: dict, flash_sale_id: str | None = None, flash_shard: int | None = None) -> OrderItem:
    bind_all()
    now = utcnow()
    window = get_commerce_settings().payment_window_seconds
    pay_by = now + timedelta(seconds=window)
    pay_by_epoch = int(pay_by.timestamp())
    gsi1pk, gsi1sk = repository.expiry_keys(order_id, pay_by_epoch)
    gsi3pk, gsi3sk = repository.room_order_keys(room_id, order_id)
    created = iso(now)
    return OrderItem(*OrderItem.key(order_id), order_id=order_id, user_id=user_id, room_id=room_id, kind=kind,
                     flash_sale_id=flash_sale_id, flash_shard=flash_shard, lines=lines, subtotal=quote.subtotal,
                     discount=quote.discount, total=quote.total, coupon_id=quote.coupon_id, address=address,
                     state=PENDING, pay_by=iso(pay_by), pay_by_epoch=pay_by_epoch, created_at=created,
                     updated_at=created, gsi1pk=gsi1pk, gsi1sk=gsi1sk, gsi2pk=f"USER#{user_id}",
                     gsi2sk=f"{created}#{order_id}", gsi3pk=gsi3pk, gsi3sk=gsi3sk)


def _load_own(caller: Caller, order_id: str, *, consistent: bool = True) -> OrderItem:
    item = repository.get_order(order_id, consistent=consistent)
    if item is None or (item.user_id != caller.user_id and not caller.is_operator):
        # Someone else's order does not exist for the caller.
        raise problems.NotFound("No such order.", code="order_not_found")
    return item


def replayed_order(order_id: str | None) -> Order:
    item = repository.get_order(order_id) if order_id else None
    if item is None:
        raise problems.Conflict("The first request's order is not readable yet; retry.", code="concurrent_update",
                                retryable=True)
    return order_view(item)


# -- create ------------------------------------------------------------------------

def create_order(caller: Caller, body: CreateOrderRequest, key: str) -> Order:
    rooms.require_visible(body.room_id, caller)        # a test room sells to those who run it only
    fp = idempotency.fingerprint({"kind": "room", **body.model_dump(mode="json")})
    wanted = {line.product_id: line.quantity for line in body.items}
    avoid_coupons: set[str] = set()
    tried: dict[str, str | None] = {}     # the coupon the last attempt locked
    for attempt in range(MAX_ATTEMPTS):
        try:
            return idempotency.commit_once(
                "order", caller.user_id, key, fp,
                build_tx=lambda: _order_effect(caller, body, wanted, avoid_coupons, tried),
                replay=lambda record: replayed_order(record.ref), check_first=attempt == 0)
        except TxCancelled as exc:
            if marketing.coupon_failed(exc):
                if body.coupon_id:
                    raise problems.Conflict("That coupon is already used or held by another unpaid order.",
                                            code="coupon_unavailable") from exc
                avoid_coupons.add(tried["coupon_id"])
            continue  # stock, listing or price moved under us: read again and re-price
    raise problems.Conflict("Stock or prices are changing fast; retry.", code="concurrent_update", retryable=True)


def _order_effect(caller: Caller, body: CreateOrderRequest, wanted: dict[str, int],
                  avoid_coupons: set[str], tried: dict[str, str | None]) -> Effect[Order]:
    """One attempt at a room order: read presets and coupons, price, and build its transaction."""
    presets = catalog.room_presets_for_order(body.room_id, wanted)
    problem = rules.unsellable(wanted, {pid: (p.listed, p.stock_left) for pid, p in presets.items()})
    if problem is not None:
        code, product_ids = problem
        if code == "product_not_listed":
            raise problems.Conflict("Not on sale in this room: " + ", ".join(product_ids) + ".",
                                    code=code, product_ids=product_ids)
        raise problems.Conflict("Not enough stock left for: " + ", ".join(product_ids) + ".", code=code,
                                product_ids=product_ids)
    lines = [pricing.Line(pid, int(presets[pid].live_price), qty) for pid, qty in wanted.items()]
    held = marketing.usable_coupons(caller.user_id)
    if body.coupon_id and body.coupon_id not in {c.coupon_id for c in held}:
        if not marketing.holds_coupon(caller.user_id, body.coupon_id):
            raise problems.NotFound("No such coupon in your coupon centre.", code="coupon_not_found")
        raise problems.Conflict("That coupon is already used or held by another unpaid order.",
                                code="coupon_unavailable")
    terms = [c for c in held if c.coupon_id not in avoid_coupons]
    try:
        quote = pricing.quote(lines, terms, room_id=body.room_id, now=utcnow(), coupon_id=body.coupon_id,
                              auto_coupon=body.auto_coupon)
    except pricing.CouponRejected as exc:
        raise problems.Conflict(f"The coupon does not apply to this order ({exc.code}).", code=exc.code) from exc
    if quote.total > pricing.MAX_ORDER_TOTAL:
        raise problems.ValidationFailed("The order is larger than one payment may be.", code="order_too_large",
                                        errors=[{"field": "body.items", "message": "total too large",
                                                 "type": "value_error"}])
    order_id = new_ulid()
    line_docs = [{"product_id": line.product_id, "name": presets[line.product_id].name,
                  "image": presets[line.product_id].image, "unit_price": line.unit_price,
                  "quantity": line.quantity, "line_total": line.total} for line in lines]
    order = new_order_item(order_id=order_id, user_id=caller.user_id, room_id=body.room_id, kind="room",
                           lines=line_docs, quote=quote, address=body.address.model_dump(mode="json"))
    tried["coupon_id"] = quote.coupon_id
    tx = Tx()
    for line in lines:
        catalog.hold_stock(tx, body.room_id, line.product_id, line.quantity, live_price=line.unit_price)
    if quote.coupon_id:
        marketing.lock_coupon(tx, caller.user_id, quote.coupon_id, order_id)
    tx.put("order", order, OrderItem.pk.does_not_exist())
    events: list[Event] = [order_created(order)]
    events += [StockChanged(room_id=body.room_id, product_id=line.product_id, delta=-line.quantity, cause="order",
                            order_id=order_id) for line in lines]
    outbox = repository.outbox_items(order.pk, events)
    for event in outbox:
        tx.put("outbox", event)
    return Effect(tx, order_view(order), ref=order_id, after=lambda: repository.flush_new(order.pk, outbox))


# -- read ---------------------------------------------------------------------------

def get_order(caller: Caller, order_id: str) -> Order:
    return order_view(_load_own(caller, order_id, consistent=False))


def my_orders(caller: Caller, *, limit: int, cursor: str | None) -> OrderPage:
    items, next_cursor = repository.orders_of_user(caller.user_id, limit=limit, cursor=cursor)
    return OrderPage(items=[order_view(i) for i in items], cursor=next_cursor)


def room_orders(caller: Caller, room_id: str, *, limit: int, cursor: str | None) -> OrderPage:
    """A room's orders, newest first, with payment, shipping and refund state: the room's host or an
    operator (the operations dashboard)."""
    rooms.require_visible(room_id, caller)
    rooms.require_room_host(caller, room_id)
    # The cursor is bound to the caller: one host's cursor is not another's.
    items, next_cursor = repository.orders_of_room(room_id, limit=limit, cursor=cursor, owner=caller.user_id)
    return OrderPage(items=[order_view(i) for i in items], cursor=next_cursor)


# -- cancel and expire ------------------------------------------------------------------

def cancel_order(caller: Caller, order_id: str) -> Order:
    item = _load_own(caller, order_id)
    if item.user_id != caller.user_id:
        raise problems.Forbidden("Only the buyer cancels an order.", code="forbidden")
    if item.kind == "points_gift":     # a gift for points: cancelled before shipping, points and stock back
        return order_view(points_gifts.cancel(item, order_fields))
    if item.state == CANCELLED:
        return order_view(item)        # a repeated cancel is a no-op
    if item.state != PENDING:
        raise problems.Conflict(f"The order is {item.state}; only unpaid orders can be cancelled.",
                                code="order_not_cancellable", state=item.state)
    return order_view(close_order(order_id, CANCELLED, cause="buyer"))


def close_order(order_id: str, to_state: str, *, cause: str) -> OrderItem:
    """Cancel or expire an unpaid order and give its stock and coupon back, exactly once."""
    skip_coupon = False
    for _ in range(MAX_ATTEMPTS + 1):
        item = repository.get_order(order_id)
        if item is None:
            raise problems.NotFound("No such order.", code="order_not_found")
        if item.state != PENDING:
            return item
        now = now_iso()
        tx = Tx()
        tx.update("order", OrderItem(*OrderItem.key(order_id)),
                  [OrderItem.state.set(to_state), OrderItem.closed_at.set(now), OrderItem.updated_at.set(now),
                   OrderItem.gsi1pk.remove(), OrderItem.gsi1sk.remove()],
                  OrderItem.state == PENDING)
        closed = OrderCancelled if to_state == CANCELLED else OrderExpired
        events: list[Event] = [closed(**order_fields(item), cause=cause)]
        if item.kind == "flash_sale":
            quantity = sum(int(line["quantity"]) for line in item.lines)
            _add_flash_release(tx, item.flash_sale_id, int(item.flash_shard), item.user_id, quantity)
            events.append(StockChanged(room_id=item.room_id, flash_sale_id=item.flash_sale_id,
                                       product_id=item.lines[0]["product_id"], delta=quantity, cause=to_state,
                                       order_id=order_id))
        else:
            quantities = {line["product_id"]: int(line["quantity"]) for line in item.lines}
            catalog.release_stock(tx, item.room_id, quantities)
            events += [StockChanged(room_id=item.room_id, product_id=pid, delta=qty, cause=to_state,
                                    order_id=order_id) for pid, qty in quantities.items()]
        if item.coupon_id and not skip_coupon:
            marketing.release_coupon(tx, item.user_id, item.coupon_id, order_id)
        for event in repository.outbox_items(item.pk, events):
            tx.put("outbox", event)
        try:
            tx.commit()
        except TxCancelled as exc:
            if marketing.coupon_failed(exc) and not exc.any("order") and not catalog.stock_failed(exc):
                # The coupon is not locked by this order (it never should be otherwise): release the rest.
                logger.warning("coupon of a closing order was not locked by it",
                               extra={"order_id": order_id, "coupon_id": item.coupon_id})
                skip_coupon = True
            continue
        repository.flush_outbox(item.pk)
        item.state, item.closed_at = to_state, now
        return item
    raise problems.Conflict("The order is changing; retry.", code="concurrent_update", retryable=True)


def _add_flash_release(tx: Tx, sale_id: str, shard: int, user_id: str, quantity: int) -> None:
    tx.update("flash_shard", FlashShardItem(*FlashShardItem.key(sale_id, shard)), [FlashShardItem.left.add(quantity)],
              FlashShardItem.pk.exists())
    tx.update("flash_buyer", FlashBuyerItem(*FlashBuyerItem.key(sale_id, user_id)),
              [FlashBuyerItem.count.add(-quantity)], FlashBuyerItem.count >= quantity)
    tx.update("flash_sale", FlashSaleItem(*FlashSaleItem.key(sale_id)),
              [FlashSaleItem.restocks.add(quantity), FlashSaleItem.sold_out.set(False)], FlashSaleItem.pk.exists())


def expire_overdue(*, now_epoch: float | None = None, limit_per_shard: int = 100,
                   before_close: Callable[[str], bool] | None = None) -> int:
    """Expire unpaid orders past their pay-by time (plus grace). Run every minute; safe to run twice.

    `before_close(order_id)` (payments: ask the providers, apply a found payment, close the trade
    there) runs first; False defers the order to the next run, for at most FORCE_EXPIRY_SECONDS
    (a payment arriving after that is refunded)."""
    now = now_epoch if now_epoch is not None else utcnow().timestamp()
    cutoff = rules.expiry_cutoff(now)
    expired = 0
    for shard in range(repository.EXPIRY_SHARDS):
        for item in repository.overdue_orders(shard, before_epoch=cutoff, limit=limit_per_shard):
            if before_close is not None and not before_close(item.order_id) \
                    and now - int(item.pay_by_epoch) < FORCE_EXPIRY_SECONDS:
                logger.warning("order expiry deferred: provider not asked", extra={"order_id": item.order_id})
                continue
            try:
                closed = close_order(item.order_id, EXPIRED, cause="payment_window")
            except problems.Problem:
                logger.warning("order expiry deferred", extra={"order_id": item.order_id})
                continue
            if closed.state == EXPIRED:
                expired += 1
    return expired


# -- payments -----------------------------------------------------------------------------

def apply_payment(*, channel: str, order_id: str, transaction_id: str, amount: int, paid_at: str) -> str:
    """Apply a verified "paid" report from a provider, at most once per transaction.

    Returns "paid", "duplicate", "refund_required" (money arrived that the order
    cannot take: wrong amount, already paid by another transaction, closed) or
    "unknown_order". Every report is recorded; the first one per transaction
    decides, later ones change nothing."""
    bind_all()
    notify_id = f"notify:{channel}:{transaction_id}"
    skip_coupon = False
    for _ in range(MAX_ATTEMPTS + 1):
        item = repository.get_order(order_id)
        if item is None:
            logger.error("payment for an unknown order", extra={"order_id": order_id, "channel": channel,
                                                                "transaction_id": transaction_id})
            return "unknown_order"
        if item.state == PAID and (item.payment or {}).get("transaction_id") == transaction_id:
            return "duplicate"
        now = now_iso()
        reason = rules.refund_reason(amount, int(item.total), item.state)
        tx = Tx()
        # At most once per provider transaction, remembered for 72 h (providers retry for about a day).
        record = idempotency.bind()(notify_id, expiration=int(time.time()) + NOTIFICATION_TTL_SECONDS,
                                    scope="notify", fingerprint=str(amount), ref=order_id, created_at=now)
        tx.put("notify", record, idempotency.put_condition())
        day_pk, day_sk = repository.settlement_day_keys(channel, transaction_id, paid_at)   # reconciliation
        tx.put("settlement", SettlementItem(*SettlementItem.key(order_id, channel, transaction_id), channel=channel,
                                            transaction_id=transaction_id, amount=amount,
                                            outcome="refund_required" if reason else "applied", reason=reason,
                                            received_at=now, paid_at=paid_at, gsi1pk=day_pk, gsi1sk=day_sk),
               SettlementItem.pk.does_not_exist())
        if reason is None:
            payment = {"channel": channel, "transaction_id": transaction_id, "amount": amount, "paid_at": paid_at}
            tx.update("order", OrderItem(*OrderItem.key(order_id)),
                      [OrderItem.state.set(PAID), OrderItem.paid_at.set(paid_at), OrderItem.payment.set(payment),
                       OrderItem.updated_at.set(now), OrderItem.gsi1pk.remove(), OrderItem.gsi1sk.remove()],
                      OrderItem.state == PENDING)
            if item.coupon_id and not skip_coupon:
                marketing.use_coupon(tx, item.user_id, item.coupon_id, order_id, now)
            events: list[Event] = [OrderPaid(**order_fields(item), channel=channel, transaction_id=transaction_id,
                                             paid_at=paid_at)]
        else:
            logger.error("payment cannot be applied; refund required",
                         extra={"order_id": order_id, "channel": channel, "transaction_id": transaction_id,
                                "amount": amount, "order_total": int(item.total), "reason": reason})
            events = [OrderRefundRequired(order_id=order_id, user_id=item.user_id, channel=channel,
                                          transaction_id=transaction_id, amount=amount,
                                          order_total=int(item.total), reason=reason)]
        for event in repository.outbox_items(item.pk, events):
            tx.put("outbox", event)
        try:
            tx.commit()
        except TxCancelled as exc:
            if "notify" in exc or "settlement" in exc:
                return "duplicate"
            if marketing.coupon_failed(exc) and "order" not in exc:
                logger.warning("coupon of a paid order was not locked by it",
                               extra={"order_id": order_id, "coupon_id": item.coupon_id})
                skip_coupon = True
            continue   # the order changed (closed by its buyer or the sweeper): decide again
        repository.flush_outbox(item.pk)
        return "refund_required" if reason else "paid"
    raise problems.Conflict("The order is changing; retry.", code="concurrent_update", retryable=True)


def payable_order(caller: Caller, order_id: str) -> PayableOrder:
    """The caller's order, if it can still be paid."""
    item = _load_own(caller, order_id)
    if item.user_id != caller.user_id:
        raise problems.Forbidden("Only the buyer pays an order.", code="forbidden")
    if item.state == PAID:
        raise problems.Conflict("The order is already paid.", code="order_already_paid")
    if item.state != PENDING:
        raise problems.Conflict(f"The order is {item.state}.", code="order_not_payable", state=item.state)
    if not rules.payment_window_open(int(item.pay_by_epoch), utcnow().timestamp()):
        raise problems.Conflict("The payment window has closed.", code="order_expired")
    return PayableOrder(order_id=item.order_id, total=int(item.total), pay_by=item.pay_by,
                        pay_by_epoch=int(item.pay_by_epoch), line_names=[line["name"] for line in item.lines])


def payment_attempt(order_id: str, channel: str) -> PaymentAttempt | None:
    item = repository.get_payment(order_id, channel)
    if item is None:
        return None
    return PaymentAttempt(order_id=order_id, channel=channel, amount=int(item.amount), provider_ref=item.provider_ref,
                          params=dict(item.params or {}), valid_until=item.valid_until)


def record_payment_attempt(attempt: PaymentAttempt) -> None:
    bind_all()
    repository.put_payment(PaymentItem(*PaymentItem.key(attempt.order_id, attempt.channel), channel=attempt.channel,
                                       amount=attempt.amount, provider_ref=attempt.provider_ref,
                                       params=attempt.params, valid_until=attempt.valid_until,
                                       created_at=now_iso()))

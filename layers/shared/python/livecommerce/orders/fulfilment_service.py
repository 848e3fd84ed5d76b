"""Fulfilment and after-sales: shipping, receipt (by the buyer or automatically), after-sale
requests and decisions, and refund results from payments. No HTTP here.

Every change is one DynamoDB transaction conditioned on the state it was decided from (the
order's state and its open after-sale, the after-sale's state), with its events in the orders
outbox; a retry or a race decides again from what is stored, so nothing moves twice. The
rules are orders.fulfilment (what an order's state allows) and orders.after_sales (the
after-sale state machine and the money it may move).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from livecommerce import catalog, rooms
from livecommerce.catalog.events import StockChanged
from livecommerce.orders import after_sales as machine
from livecommerce.orders import fulfilment as rules
from livecommerce.orders import repository
from livecommerce.orders.events import (AfterSaleRefundApproved, AfterSaleRejected, AfterSaleRequested,
                                        OrderDelivered, OrderRefunded, OrderShipped)
from livecommerce.orders.fulfilment_models import (AfterSale, AfterSaleDecision, AfterSaleRequest, BulkShipment,
                                                   BulkShipmentRequest, BulkShipmentResult, ShipmentRequest,
                                                   ShipmentResult)
from livecommerce.orders.models import Order
from livecommerce.orders.service import _add_flash_release, order_fields, order_view
from livecommerce.orders.settings import get_fulfilment_settings
from livecommerce.orders.storage import AfterSaleItem, OrderItem, RefundAppliedItem, bind_all
from livecommerce.shared import idempotency, outbox, problems
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import iso, utcnow
from livecommerce.shared.idempotency import Effect
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger
from livecommerce.shared.outbox import Event
from livecommerce.shared.tx import Tx, TxCancelled

RECEIPT_SHARDS = 16
MAX_ATTEMPTS = 4

_STATUS = {"unknown_carrier": 422, "invalid_tracking_number": 422, "order_not_found": 404, "forbidden": 403,
           "room_not_found": 404}


def receipt_keys(order_id: str, confirm_epoch: int) -> tuple[str, str]:
    return f"RECEIPT#{outbox.shard_of(order_id, RECEIPT_SHARDS)}", f"{confirm_epoch:012d}#{order_id}"


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _problem(code: str, detail: str, **extra: Any) -> problems.Problem:
    return problems.Problem(detail, code=code, status=_STATUS.get(code, 409),
                            title="Not allowed" if code == "forbidden" else "Conflict", **extra)


def _order(order_id: str) -> OrderItem:
    item = repository.get_order(order_id)
    if item is None:
        raise problems.NotFound("No such order.", code="order_not_found")
    return item


def _require_runs_room(caller: Caller, item: OrderItem) -> None:
    """The host of the order's room or an operator; anyone else is refused (a test room they do
    not run is answered as no order)."""
    if caller.is_operator:
        return
    try:
        rooms.require_room_host(caller, item.room_id)
    except problems.NotFound as exc:
        raise problems.NotFound("No such order.", code="order_not_found") from exc


def _events_into(tx: Tx, pk: str, events: list[Event]) -> None:
    for event in repository.outbox_items(pk, events):
        tx.put("outbox", event)


# -- shipping ------------------------------------------------------------------------------

def ship(caller: Caller, order_id: str, body: ShipmentRequest) -> Order:
    item = _order(order_id)
    _require_runs_room(caller, item)
    return order_view(_ship(caller, item, body.carrier, body.tracking_number))


def _ship(caller: Caller, item: OrderItem, carrier: str, tracking_number: str) -> OrderItem:
    bad = rules.tracking_problem(carrier, tracking_number)
    if bad is not None:
        raise problems.ValidationFailed(f"{tracking_number!r} is not a {carrier} tracking number."
                                        if bad == "invalid_tracking_number" else f"Unknown carrier {carrier!r}.",
                                        code=bad, errors=[{"field": "body.tracking_number", "message": bad,
                                                           "type": "value_error"}])
    order_id = item.order_id
    for _ in range(MAX_ATTEMPTS):
        shipment = item.shipment or {}
        if shipment.get("carrier") == carrier and shipment.get("tracking_number") == tracking_number:
            return item                                   # the same shipment again: a retry
        why = rules.ship_problem(item.state, item.open_after_sale)
        if why is not None:
            raise _problem(why, f"The order cannot be shipped ({why}).", state=item.state)
        now = utcnow()
        days = get_fulfilment_settings().auto_receipt_days
        confirm_by = rules.confirm_by(now, days)
        gsi1pk, gsi1sk = receipt_keys(order_id, int(confirm_by.timestamp()))
        shipment = {"shipment_id": new_ulid(), "carrier": carrier, "carrier_name": rules.CARRIERS[carrier][0],
                    "tracking_number": tracking_number, "shipped_by": caller.user_id}
        tx = Tx()
        tx.update("order", OrderItem(*OrderItem.key(order_id)),
                  [OrderItem.state.set(rules.SHIPPED), OrderItem.shipment.set(shipment),
                   OrderItem.shipped_at.set(iso(now)), OrderItem.confirm_by.set(iso(confirm_by)),
                   OrderItem.updated_at.set(iso(now)), OrderItem.gsi1pk.set(gsi1pk), OrderItem.gsi1sk.set(gsi1sk)],
                  (OrderItem.state == rules.PAID) & OrderItem.open_after_sale.does_not_exist())
        _events_into(tx, item.pk, [OrderShipped(**order_fields(item), shipment_id=shipment["shipment_id"],
                                                carrier=carrier, carrier_name=shipment["carrier_name"],
                                                tracking_number=tracking_number, shipped_at=iso(now),
                                                shipped_by=caller.user_id, confirm_by=iso(confirm_by))])
        try:
            tx.commit()
        except TxCancelled:
            item = _order(order_id)                       # changed under us: decide again
            continue
        repository.flush_outbox(item.pk)
        return _order(order_id)
    raise problems.Conflict("The order is changing; retry.", code="concurrent_update", retryable=True)


def ship_many(caller: Caller, body: BulkShipmentRequest) -> BulkShipmentResult:
    """Ship several orders; each is shipped or refused on its own (the answer says which).
    Idempotent: an order already shipped with the same carrier and number is ok again."""
    results: list[ShipmentResult] = []
    for line in body.shipments:
        results.append(_ship_one(caller, line))
    shipped = sum(1 for r in results if r.ok)
    return BulkShipmentResult(results=results, shipped=shipped, failed=len(results) - shipped)


def _ship_one(caller: Caller, line: BulkShipment) -> ShipmentResult:
    try:
        item = _order(line.order_id)
        _require_runs_room(caller, item)
        shipped = _ship(caller, item, line.carrier, line.tracking_number)
    except problems.Problem as exc:
        return ShipmentResult(order_id=line.order_id, ok=False, status=exc.status, code=exc.code, detail=exc.detail,
                              state=exc.extra.get("state"))
    return ShipmentResult(order_id=line.order_id, ok=True, status=200, state=shipped.state)


# -- receipt -------------------------------------------------------------------------------

def confirm_receipt(caller: Caller, order_id: str) -> Order:
    item = _order(order_id)
    if item.user_id != caller.user_id:
        if caller.is_operator:
            raise problems.Forbidden("Only the buyer confirms receipt.", code="forbidden")
        raise problems.NotFound("No such order.", code="order_not_found")
    if item.delivered_at:
        return order_view(item)                           # a repeated confirmation changes nothing
    return order_view(_receive(item, cause="buyer"))


def _receive(item: OrderItem, *, cause: str) -> OrderItem:
    order_id = item.order_id
    for _ in range(MAX_ATTEMPTS):
        if item.delivered_at:
            return item
        why = rules.receipt_problem(item.state, item.shipped_at, item.delivered_at)
        if why is not None:
            raise _problem(why, f"Receipt cannot be confirmed ({why}).", state=item.state)
        now = iso(utcnow())
        to_state = rules.state_after_receipt(item.state)
        tx = Tx()
        tx.update("order", OrderItem(*OrderItem.key(order_id)),
                  [OrderItem.state.set(to_state), OrderItem.delivered_at.set(now), OrderItem.updated_at.set(now),
                   OrderItem.gsi1pk.remove(), OrderItem.gsi1sk.remove()],
                  (OrderItem.state == item.state) & OrderItem.delivered_at.does_not_exist())
        shipment = item.shipment or {}
        _events_into(tx, item.pk, [OrderDelivered(**order_fields(item), shipment_id=shipment.get("shipment_id"),
                                                  carrier=shipment.get("carrier"),
                                                  tracking_number=shipment.get("tracking_number"),
                                                  delivered_at=now, cause=cause)])
        try:
            tx.commit()
        except TxCancelled:
            item = _order(order_id)
            continue
        repository.flush_outbox(item.pk)
        return _order(order_id)
    raise problems.Conflict("The order is changing; retry.", code="concurrent_update", retryable=True)


def confirm_due_receipts(now: datetime | None = None, *, limit_per_shard: int = 100) -> int:
    """Receive shipped orders whose buyer did not confirm in time. Run every minute; safe twice."""
    bind_all()
    cutoff = int((now or utcnow()).timestamp())
    done = 0
    for shard in range(RECEIPT_SHARDS):
        for found in OrderItem.by_expiry.query(f"RECEIPT#{shard}", OrderItem.gsi1sk < f"{cutoff:012d}~",
                                               limit=limit_per_shard):
            item = repository.get_order(found.order_id)
            if item is None or item.delivered_at or not item.confirm_by or int(
                    _parse(item.confirm_by).timestamp()) > cutoff:
                continue
            try:
                _receive(item, cause="auto")
                done += 1
            except problems.Problem:
                logger.exception("automatic receipt failed", extra={"order_id": item.order_id})
    return done


# -- after-sales ---------------------------------------------------------------------------

def after_sale_view(item: AfterSaleItem) -> AfterSale:
    return AfterSale(id=item.after_sale_id, order_id=item.order_id, user_id=item.user_id, room_id=item.room_id,
                     amount=int(item.amount), reason=item.reason, stage=item.stage, state=item.state,
                     created_at=item.created_at, decided_by=item.decided_by, decided_at=item.decided_at,
                     decision_note=item.decision_note, refund_id=item.refund_id, refunded_at=item.refunded_at)


def get_after_sale_item(after_sale_id: str) -> AfterSaleItem | None:
    bind_all()
    try:
        return AfterSaleItem.get(*AfterSaleItem.key(after_sale_id), consistent_read=True)
    except AfterSaleItem.DoesNotExist:
        return None


def _refused(exc: machine.Refused, **extra: Any) -> problems.Problem:
    title = {403: "Not allowed", 422: "Request did not validate"}.get(exc.status, "Conflict")
    return problems.Problem(exc.detail, code=exc.code, status=exc.status, title=title, **extra)


def request_after_sale(caller: Caller, order_id: str, body: AfterSaleRequest, key: str) -> AfterSale:
    fp = idempotency.fingerprint({"order_id": order_id, **body.model_dump(mode="json")})

    def replay(record: idempotency.IdempotencyRecord) -> AfterSale:
        found = get_after_sale_item(record.ref) if record.ref else None
        if found is None:
            raise problems.Conflict("The first request's after-sale is not readable yet; retry.",
                                    code="concurrent_update", retryable=True)
        return after_sale_view(found)

    for attempt in range(MAX_ATTEMPTS):
        try:
            return idempotency.commit_once("after_sale", caller.user_id, key, fp,
                                           build_tx=lambda: _request_effect(caller, order_id, body),
                                           replay=replay, check_first=attempt == 0)
        except TxCancelled:
            continue                                      # the order moved: decide again
    raise problems.Conflict("The order is changing; retry.", code="concurrent_update", retryable=True)


def _request_effect(caller: Caller, order_id: str, body: AfterSaleRequest) -> Effect[AfterSale]:
    item = _order(order_id)
    if item.user_id != caller.user_id:
        raise problems.NotFound("No such order.", code="order_not_found")     # another buyer's order
    if item.kind == "prize":       # a lottery prize (orders.prizes): nothing was paid, nothing to refund
        raise problems.Conflict("A lottery prize was not bought: it takes no money refund.",
                                code="prize_not_refundable")
    if item.kind == "points_gift":  # a gift for points (orders.points_gifts): cancel it before shipping instead
        raise problems.Conflict("A gift for points was not bought with money: it takes no money refund; cancel "
                                "it before it ships to get the points back.", code="points_gift_not_refundable")
    stage = rules.after_sale_stage(item.state, item.shipped_at)
    if item.open_after_sale:
        raise problems.Conflict("This order already has an after-sale in progress.", code="after_sale_open",
                                after_sale_id=item.open_after_sale)
    if stage is None:
        code = "nothing_to_refund" if item.state == rules.REFUNDED else "order_not_refundable"
        raise problems.Conflict(f"The order is {item.state}; it takes no after-sale.", code=code, state=item.state)
    now = utcnow()
    settings = get_fulfilment_settings()
    if stage == "after_shipping":
        closes = rules.after_sale_window_closes(_parse(item.shipped_at),
                                                _parse(item.delivered_at) if item.delivered_at else None,
                                                window_days=settings.after_sale_window_days,
                                                auto_receipt_days=settings.auto_receipt_days)
        if now > closes:
            raise problems.Conflict(f"After-sales for this order closed at {iso(closes)}.",
                                    code="after_sale_window_closed", closed_at=iso(closes))
        if not body.reason:
            raise problems.ValidationFailed("After shipping, say why.", code="reason_required",
                                            errors=[{"field": "body.reason", "message": "required after shipping",
                                                     "type": "missing"}])
    paid, refunded, reserved = int(item.total), int(item.refunded_amount or 0), int(item.refund_reserved or 0)
    amount = body.amount if body.amount is not None else machine.refundable(paid, refunded, reserved)
    action = "request_before_shipping" if stage == "before_shipping" else "request_after_shipping"
    try:
        machine.check_amount(amount, paid=paid, refunded=refunded, reserved=reserved,
                             before_shipping=stage == "before_shipping")
        state = machine.move(machine.NEW, action, machine.BUYER)
    except machine.Refused as exc:
        raise _refused(exc) from exc
    after_sale_id = new_ulid()
    created = iso(now)
    reason = body.reason or "before_shipping"
    sale = AfterSaleItem(*AfterSaleItem.key(after_sale_id), after_sale_id=after_sale_id, order_id=order_id,
                         user_id=item.user_id, room_id=item.room_id, amount=amount, reason=reason, stage=stage,
                         state=state, created_at=created, updated_at=created, gsi2pk=f"ORDERAS#{order_id}",
                         gsi2sk=f"{created}#{after_sale_id}")
    if state == machine.APPROVED:
        sale.decided_by, sale.decided_at = "system", created
    updates = [OrderItem.open_after_sale.set(after_sale_id), OrderItem.refund_reserved.set(amount),
               OrderItem.updated_at.set(created)]
    if stage == "before_shipping":
        updates.append(OrderItem.state.set(rules.REFUNDING))
    tx = Tx()
    same_refunded = (OrderItem.refunded_amount == refunded) if refunded else (
        OrderItem.refunded_amount.does_not_exist() | (OrderItem.refunded_amount == 0))
    tx.update("order", OrderItem(*OrderItem.key(order_id)), updates,
              (OrderItem.state == item.state) & OrderItem.open_after_sale.does_not_exist() & same_refunded)
    tx.put("after_sale", sale, AfterSaleItem.pk.does_not_exist())
    events: list[Event] = [AfterSaleRequested(after_sale_id=after_sale_id, order_id=order_id, user_id=item.user_id,
                                              room_id=item.room_id, amount=amount, reason=reason, stage=stage,
                                              state=state)]
    if state == machine.APPROVED:
        events.append(_approved_event(sale, item))
    outbox_items = repository.outbox_items(item.pk, events)
    for event in outbox_items:
        tx.put("outbox", event)
    return Effect(tx, after_sale_view(sale), ref=after_sale_id, after=lambda: repository.flush_outbox(item.pk))


def _approved_event(sale: AfterSaleItem, order: OrderItem) -> AfterSaleRefundApproved:
    payment = order.payment or {}
    return AfterSaleRefundApproved(after_sale_id=sale.after_sale_id, order_id=order.order_id, user_id=order.user_id,
                                   channel=payment.get("channel", ""), transaction_id=payment.get("transaction_id", ""),
                                   amount=int(sale.amount), order_total=int(order.total), reason=sale.reason)


def decide_after_sale(caller: Caller, after_sale_id: str, approve: bool, body: AfterSaleDecision | None) -> AfterSale:
    """Approve (the refund goes to payments) or reject an after-shipping request: the host of the
    order's room or an operator."""
    sale = get_after_sale_item(after_sale_id)
    if sale is None:
        raise problems.NotFound("No such after-sale.", code="after_sale_not_found")
    order = _order(sale.order_id)
    if not caller.is_operator:
        try:
            rooms.require_room_host(caller, sale.room_id)
        except problems.NotFound as exc:
            raise problems.NotFound("No such after-sale.", code="after_sale_not_found") from exc
    action = "approve" if approve else "reject"
    try:
        to_state = machine.move(sale.state, action, machine.HOST)
    except machine.Refused as exc:
        raise _refused(exc, state=sale.state) from exc
    now = iso(utcnow())
    note = body.note if body else None
    tx = Tx()
    tx.update("after_sale", AfterSaleItem(*AfterSaleItem.key(after_sale_id)),
              [AfterSaleItem.state.set(to_state), AfterSaleItem.decided_by.set(caller.user_id),
               AfterSaleItem.decided_at.set(now), AfterSaleItem.updated_at.set(now)]
              + ([AfterSaleItem.decision_note.set(note)] if note else []),
              AfterSaleItem.state == sale.state)
    order_updates = [OrderItem.updated_at.set(now)]
    if not approve:
        order_updates += [OrderItem.open_after_sale.remove(), OrderItem.refund_reserved.set(0)]
    tx.update("order", OrderItem(*OrderItem.key(order.order_id)), order_updates,
              OrderItem.open_after_sale == after_sale_id)
    event: Event = (_approved_event(sale, order) if approve else
                    AfterSaleRejected(after_sale_id=after_sale_id, order_id=order.order_id, user_id=order.user_id,
                                      amount=int(sale.amount), reason=note or ""))
    _events_into(tx, order.pk, [event])
    try:
        tx.commit()
    except TxCancelled as exc:
        raise problems.Conflict("The after-sale changed; read it again.", code="concurrent_update",
                                retryable=True) from exc
    repository.flush_outbox(order.pk)
    return after_sale_view(get_after_sale_item(after_sale_id))


# -- refund results (payments' RefundSucceeded / RefundFailed) --------------------------------

def apply_refund_result(*, refund_id: str, order_id: str, after_sale_id: str | None, amount: int, succeeded: bool,
                        refunded_at: str | None = None, provider_code: str | None = None,
                        message: str | None = None) -> str:
    """Apply a refund's result to the order and its after-sale, once per refund id: "applied",
    "duplicate", or "ignored" (not an after-sale refund: a duplicate or late payment went back,
    the order itself is unchanged)."""
    if not after_sale_id:
        return "ignored"
    bind_all()
    for _ in range(MAX_ATTEMPTS + 1):
        sale = get_after_sale_item(after_sale_id)
        order = repository.get_order(order_id)
        if sale is None or order is None or sale.order_id != order_id:
            logger.error("refund result for an unknown after-sale",
                         extra={"refund_id": refund_id, "order_id": order_id, "after_sale_id": after_sale_id})
            return "ignored"
        try:
            to_state = machine.move(sale.state, "refund_succeeded" if succeeded else "refund_failed", machine.SYSTEM)
        except machine.Refused:
            return "duplicate"            # already refunded / failed: a repeated or second refund changes nothing
        if succeeded and int(amount) != int(sale.amount):
            logger.error("refund amount differs from the after-sale's",
                         extra={"refund_id": refund_id, "amount": amount, "after_sale_amount": int(sale.amount)})
        now = iso(utcnow())
        refunded_before = int(order.refunded_amount or 0)
        tx = Tx()
        tx.put("applied", RefundAppliedItem(*RefundAppliedItem.key(order_id, refund_id), refund_id=refund_id,
                                            outcome="succeeded" if succeeded else "failed", amount=amount,
                                            applied_at=now), RefundAppliedItem.pk.does_not_exist())
        sale_updates = [AfterSaleItem.state.set(to_state), AfterSaleItem.refund_id.set(refund_id),
                        AfterSaleItem.updated_at.set(now)]
        if succeeded:
            sale_updates.append(AfterSaleItem.refunded_at.set(refunded_at or now))
        else:
            sale_updates.append(AfterSaleItem.failure.set({"provider_code": provider_code, "message": message}))
        tx.update("after_sale", AfterSaleItem(*AfterSaleItem.key(after_sale_id)), sale_updates,
                  AfterSaleItem.state == sale.state)
        order_updates = [OrderItem.open_after_sale.remove(), OrderItem.refund_reserved.set(0),
                         OrderItem.updated_at.set(now)]
        events: list[Event] = []
        if succeeded:
            refunded = refunded_before + int(sale.amount)
            order_state = machine.order_state_after_refund(int(order.total), refunded)
            stock_back = sale.stage == "before_shipping"
            order_updates += [OrderItem.refunded_amount.set(refunded), OrderItem.state.set(order_state)]
            if order_state == rules.REFUNDED:
                order_updates += [OrderItem.gsi1pk.remove(), OrderItem.gsi1sk.remove()]
            if stock_back:
                _return_stock(tx, order, events)
            events.insert(0, OrderRefunded(**order_fields(order), refund_id=refund_id, after_sale_id=after_sale_id,
                                           amount=int(sale.amount), refunded_total=refunded, state=order_state,
                                           stock_returned=stock_back))
        elif order.state == rules.REFUNDING:
            order_updates.append(OrderItem.state.set(rules.PAID))   # the goods may ship again
        tx.update("order", OrderItem(*OrderItem.key(order_id)), order_updates,
                  (OrderItem.open_after_sale == after_sale_id) & (OrderItem.state == order.state))
        _events_into(tx, order.pk, events)
        try:
            tx.commit()
        except TxCancelled as exc:
            if "applied" in exc:
                return "duplicate"
            continue
        repository.flush_outbox(order.pk)
        return "applied"
    raise problems.Conflict("The order is changing; retry.", code="concurrent_update", retryable=True)


def _return_stock(tx: Tx, order: OrderItem, events: list[Event]) -> None:
    """The goods never left: the units go back where the order took them from, or, for a flash sale that
    has ended (nobody can buy from its shards any more), to the product's unallocated stock."""
    if order.kind == "flash_sale":
        quantity = sum(int(line["quantity"]) for line in order.lines)
        sale = repository.get_sale(order.flash_sale_id, consistent=True)
        if sale is None or utcnow() >= datetime.fromisoformat(sale.ends_at.replace("Z", "+00:00")):
            product_id = order.lines[0]["product_id"]
            catalog.allocate_stock(tx, product_id, -quantity)
            events.append(StockChanged(room_id=order.room_id, product_id=product_id, delta=quantity,
                                       cause="refunded", order_id=order.order_id))
            return
        _add_flash_release(tx, order.flash_sale_id, int(order.flash_shard), order.user_id, quantity)
        events.append(StockChanged(room_id=order.room_id, flash_sale_id=order.flash_sale_id,
                                   product_id=order.lines[0]["product_id"], delta=quantity, cause="refunded",
                                   order_id=order.order_id))
        return
    quantities = {line["product_id"]: int(line["quantity"]) for line in order.lines}
    catalog.release_stock(tx, order.room_id, quantities)
    events += [StockChanged(room_id=order.room_id, product_id=pid, delta=qty, cause="refunded",
                            order_id=order.order_id) for pid, qty in quantities.items()]

"""Points-gift orders: a catalog gift redeemed for points, shipped through the fulfilment path. No HTTP here.

Marketing's `POST /v1/points/redemptions` (kind `gift`) commits, in ONE DynamoDB transaction, the
points debit (marketing's items), the gift's units taken from the catalog product's unallocated
stock (catalog's items, through its face) and this order (kind `points_gift`), born `paid` at zero
fen with a `points_gift` marker (the points spent). The order's room is `POINTS_ROOM` (no room: the
store's gift), so only an operator ships it (`POST /v1/orders/{id}/shipments`), and `OrderShipped` /
`OrderDelivered` flow as for any order.

Cancelled by the buyer before shipping (`POST /v1/orders/{id}/cancel`): one transaction conditioned
on the order still `paid` with no shipment moves it to `cancelled`, puts the units back into the
product's stock and asks marketing (its face adds its own items) to give the points back with a
ledger entry, once: the order's condition and marketing's per-order return reference both hold it.
A shipment and a cancel racing for the same order: exactly one commits.

What a points-gift order is not:
- a sale: it emits neither `OrderCreated` nor `OrderPaid` (the only order events analytics counts as
  orders and GMV), has no payment and no settlement record (reconciliation never sees it), and
  marketing's OrderPaid points are never earned on it;
- refundable in money: after-sales refuse it (`points_gift_not_refundable`).
"""
from __future__ import annotations

from typing import Any, Callable

from livecommerce import catalog, marketing
from livecommerce.orders import repository, rules
from livecommerce.orders.events import OrderCancelled
from livecommerce.orders.models import PointsGiftOrder
from livecommerce.orders.storage import OrderItem, bind_all
from livecommerce.shared import problems
from livecommerce.shared.clock import iso, now_iso, utcnow
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.tx import Tx, TxCancelled

KIND = "points_gift"
POINTS_ROOM = "points"            # the order's room: none (the store's gift); hosts do not run it
ORDER_LABEL = "points_gift_order"
MAX_ATTEMPTS = 4


def add_points_gift_order(tx: Tx, *, user_id: str, product_id: str, name: str, image: str | None, quantity: int,
                          points_price: int, address: dict, order_id: str | None = None) -> str:
    """Add to `tx` the zero-amount order born paid and take `quantity` units from the product's stock
    (fails under catalog.stock_label(product_id) when short); returns the order id."""
    if quantity < 1 or points_price < 1:
        raise ValueError("a points gift is at least one unit at a positive points price")
    bind_all()
    order_id = order_id or new_ulid()
    now = utcnow()
    created = iso(now)
    line = {"product_id": product_id, "name": name, "image": image, "unit_price": 0, "quantity": int(quantity),
            "line_total": 0}
    order = OrderItem(*OrderItem.key(order_id), order_id=order_id, user_id=user_id, room_id=POINTS_ROOM, kind=KIND,
                      points_gift={"points": int(points_price) * int(quantity), "points_price": int(points_price)},
                      lines=[line], subtotal=0, discount=0, total=0, address=address, state=rules.PAID,
                      pay_by=created, pay_by_epoch=int(now.timestamp()), created_at=created, updated_at=created,
                      paid_at=created, gsi2pk=f"USER#{user_id}", gsi2sk=f"{created}#{order_id}")
    tx.put(ORDER_LABEL, order, OrderItem.pk.does_not_exist())
    catalog.allocate_stock(tx, product_id, int(quantity), label=catalog.stock_label(product_id))
    return order_id


def failure(exc: TxCancelled) -> str | None:
    """Why the order's part of a cancelled transaction failed: "out_of_stock" or None (something else)."""
    if catalog.stock_failed(exc):
        return "out_of_stock"
    return None


def view(item: OrderItem) -> PointsGiftOrder:
    line = item.lines[0]
    return PointsGiftOrder(order_id=item.order_id, state=item.state, product_id=line["product_id"], name=line["name"],
                           quantity=int(line["quantity"]), points=int((item.points_gift or {}).get("points", 0)))


def find(order_id: str) -> PointsGiftOrder | None:
    item = repository.get_order(order_id)
    if item is None or item.kind != KIND:
        return None
    return view(item)


def cancel(item: OrderItem, order_fields: Callable[[OrderItem], dict[str, Any]]) -> OrderItem:
    """The buyer's cancel before shipping: order cancelled, units and points back, once. `order_fields`:
    the order as its events carry it (orders.service's, passed in: that module imports this one)."""
    order_id = item.order_id
    for _ in range(MAX_ATTEMPTS):
        if item.state == rules.CANCELLED:
            return item                                   # a repeated cancel is a no-op
        if item.state != rules.PAID or item.shipment or item.open_after_sale:
            raise problems.Conflict(f"The gift is {item.state}; only a gift not yet shipped can be cancelled.",
                                    code="order_not_cancellable", state=item.state)
        line = item.lines[0]
        product_id, quantity = line["product_id"], int(line["quantity"])
        points = int((item.points_gift or {}).get("points", 0))
        now = now_iso()
        tx = Tx()
        tx.update("order", OrderItem(*OrderItem.key(order_id)),
                  [OrderItem.state.set(rules.CANCELLED), OrderItem.closed_at.set(now), OrderItem.updated_at.set(now)],
                  (OrderItem.state == rules.PAID) & OrderItem.shipment.does_not_exist()
                  & OrderItem.open_after_sale.does_not_exist())
        catalog.allocate_stock(tx, product_id, -quantity, label=catalog.stock_label(product_id))
        after = marketing.return_gift_points(tx, item.user_id, order_id=order_id, points=points,
                                             product_id=product_id, quantity=quantity)
        for event in repository.outbox_items(item.pk, [OrderCancelled(**order_fields(item), cause="buyer")]):
            tx.put("outbox", event)
        try:
            tx.commit()
        except TxCancelled:
            item = repository.get_order(order_id)         # shipped or cancelled meanwhile: decide again
            if item is None:
                raise problems.NotFound("No such order.", code="order_not_found") from None
            continue
        repository.flush_outbox(item.pk)
        after()
        item.state, item.closed_at = rules.CANCELLED, now
        return item
    raise problems.Conflict("The order is changing; retry.", code="concurrent_update", retryable=True)

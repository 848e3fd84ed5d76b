"""Prize orders: a lottery's physical prize shipped through the fulfilment path. No HTTP here.

When a product or gift winner gives their address (engagement), the claim and this order commit in
one DynamoDB transaction: the order is born `paid` at zero fen with a `prize` marker (the lottery and
the rank), so the host ships it with `POST /v1/orders/{id}/shipments` and `OrderShipped` /
`OrderDelivered` flow as for any order. A product prize takes one unit from the catalog product's
unallocated stock in the same transaction (short: the transaction fails under a `stock:` label and
the claim is refused); a gift takes none.

What a prize order is not:
- a sale: it emits neither `OrderCreated` nor `OrderPaid`, the only order events analytics counts as
  orders and GMV (analytics/sql, analytics.live), and it has no payment and no settlement record, so
  reconciliation (payments, `orders.settlements_on`) never sees it;
- refundable: after-sales refuse it (`prize_not_refundable`): there is no money to give back.

One prize order per (lottery, winner): a `PRIZE#<lottery>#<user>` item written with the order under
a does-not-exist condition.
"""
from __future__ import annotations

from livecommerce import catalog
from livecommerce.orders.models import PrizeShipping
from livecommerce.orders.storage import OrderItem, PrizeRefItem, bind_all
from livecommerce.shared.clock import iso, utcnow
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.tx import Tx, TxCancelled

KIND = "prize"
REF_LABEL = "prize_ref"


def add_prize_order(tx: Tx, *, lottery_id: str, rank: int, user_id: str, room_id: str, prize_kind: str,
                    name: str, address: dict, product_id: str | None = None) -> str:
    """Add to `tx` a zero-amount prize order born paid (and, for a product, one unit taken from the
    product's stock); returns its order id."""
    if prize_kind not in ("product", "gift"):
        raise ValueError(f"only physical prizes ship: {prize_kind!r}")
    if prize_kind == "product" and not product_id:
        raise ValueError("a product prize names its product")
    bind_all()
    order_id = new_ulid()
    now = utcnow()
    created = iso(now)
    line = {"product_id": product_id or f"gift:{lottery_id}", "name": name, "image": None, "unit_price": 0,
            "quantity": 1, "line_total": 0}
    if prize_kind == "product":
        found = catalog.find_product(product_id)
        if found is not None and found.images:
            line["image"] = found.images[0]
    order = OrderItem(*OrderItem.key(order_id), order_id=order_id, user_id=user_id, room_id=room_id, kind=KIND,
                      prize={"lottery_id": lottery_id, "rank": int(rank), "prize_kind": prize_kind},
                      lines=[line], subtotal=0, discount=0, total=0, address=address, state="paid",
                      pay_by=created, pay_by_epoch=int(now.timestamp()), created_at=created, updated_at=created,
                      paid_at=created, gsi2pk=f"USER#{user_id}", gsi2sk=f"{created}#{order_id}")
    tx.put(REF_LABEL, PrizeRefItem(*PrizeRefItem.key(lottery_id, user_id), order_id=order_id),
           PrizeRefItem.pk.does_not_exist())
    tx.put("prize_order", order, OrderItem.pk.does_not_exist())
    if prize_kind == "product":
        catalog.allocate_stock(tx, product_id, 1, label=catalog.stock_label(product_id))
    return order_id


def failure(exc: TxCancelled) -> str | None:
    """Why a transaction holding a prize order failed on the order's part: "out_of_stock" (the product
    has no unit left), "already_ordered" (this winner's prize order exists), or None (something else)."""
    if catalog.stock_failed(exc):
        return "out_of_stock"
    if REF_LABEL in exc:
        return "already_ordered"
    return None


def prize_order_of(lottery_id: str, user_id: str) -> str | None:
    bind_all()
    try:
        return PrizeRefItem.get(*PrizeRefItem.key(lottery_id, user_id), consistent_read=True).order_id
    except PrizeRefItem.DoesNotExist:
        return None


def shipping(order_ids: list[str]) -> dict[str, PrizeShipping]:
    """The prize orders' shipping states, by order id (missing ones left out)."""
    bind_all()
    found: dict[str, PrizeShipping] = {}
    ids = list(dict.fromkeys(i for i in order_ids if i))
    for start in range(0, len(ids), 100):
        for item in OrderItem.batch_get([OrderItem.key(i) for i in ids[start:start + 100]]):
            shipment = item.shipment or {}
            found[item.order_id] = PrizeShipping(order_id=item.order_id, state=item.state,
                                                 carrier=shipment.get("carrier"),
                                                 tracking_number=shipment.get("tracking_number"),
                                                 shipped_at=item.shipped_at, delivered_at=item.delivered_at)
    return found


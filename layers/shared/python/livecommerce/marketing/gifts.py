"""Gifts for points: `POST /v1/points/redemptions` with kind `gift`. No HTTP here.

One DynamoDB transaction holds, or none of it happens:
- marketing's part (marketing.gift_ledger): the balance debited under the condition that it covers the
  cost (never below zero), the ledger entry, the viewer's units of the gift counted against the
  product's per-user limit, `PointsChanged` and `GiftRedeemed` in the outbox;
- orders' part (through the orders face): the zero-amount order born paid (kind `points_gift`), which
  takes the units from the catalog product's unallocated stock (catalog's items, through the catalog
  face, under the condition that enough are left);
- the Idempotency-Key record (a retry answers the first redemption and changes nothing).

Only the router imports this module (it imports the orders face, whose services import marketing's
face: importing it from marketing's face would close a cycle).
"""
from __future__ import annotations

from livecommerce import catalog, orders
from livecommerce.marketing import gift_ledger, repository, rules
from livecommerce.marketing.gift_models import GiftRedemption, GiftRedemptionRequest
from livecommerce.marketing.storage import GiftCountItem, bind_all
from livecommerce.shared import idempotency, problems
from livecommerce.shared.api import Caller
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.tx import Tx, TxCancelled

SCOPE = "redeem"                      # the coupon redemptions' scope: one key, one redemption of either kind

MESSAGES = {
    "not_a_gift": "That product cannot be had for points.",
    "gift_limit_reached": "That is more of this gift than one viewer may redeem.",
    "insufficient_points": "Not enough points for this gift.",
    "gift_out_of_stock": "Not enough of this gift is left.",
}


def _held(user_id: str, product_id: str) -> int:
    bind_all()
    try:
        return int(GiftCountItem.get(*GiftCountItem.key(user_id, product_id), consistent_read=True).count or 0)
    except GiftCountItem.DoesNotExist:
        return 0


def _refuse(code: str, **extra) -> problems.Problem:
    return problems.Conflict(MESSAGES[code], code=code, **extra)


def redeem_gift(caller: Caller, body: GiftRedemptionRequest, key: str) -> tuple[GiftRedemption, bool]:
    user_id = caller.user_id

    def build() -> idempotency.Effect[tuple[GiftRedemption, bool]]:
        product = catalog.find_product(body.product_id, consistent=True)
        if product is None:
            raise problems.NotFound("No such product.", code="product_not_found")
        limit = product.points_limit or rules.DEFAULT_GIFT_LIMIT
        # What the items say now, for a clear answer; the transaction's conditions decide under races.
        why = rules.gift_refusal(points_price=product.points_price, quantity=body.quantity, limit=limit,
                                 held=_held(user_id, product.id), balance=repository.get_points(user_id),
                                 stock=product.stock)
        if why is not None:
            raise _refuse(why, **_figures(why, product, body.quantity, user_id))
        cost = rules.gift_cost(product.points_price, body.quantity)
        order_id = new_ulid()
        tx = Tx()
        flush = gift_ledger.add_spend(tx, user_id, order_id=order_id, product_id=product.id, quantity=body.quantity,
                                      points=cost, limit=limit)
        orders.add_points_gift_order(tx, user_id=user_id, product_id=product.id, name=product.name,
                                     image=product.images[0] if product.images else None, quantity=body.quantity,
                                     points_price=int(product.points_price), address=body.address.model_dump(
                                         exclude_none=True), order_id=order_id)
        value = GiftRedemption(order_id=order_id, product_id=product.id, name=product.name, quantity=body.quantity,
                               points_spent=cost, state="paid")
        return idempotency.Effect(tx, (value, True), ref=order_id, after=flush)

    def replay(found: idempotency.IdempotencyRecord) -> tuple[GiftRedemption, bool]:
        order = orders.points_gift_order(found.ref) if found.ref else None
        if order is None:                       # cannot happen: the record names the order it committed with
            raise problems.Conflict("The redemption's order is missing; retry.", code="concurrent_update",
                                    retryable=True)
        return GiftRedemption(order_id=order.order_id, product_id=order.product_id, name=order.name,
                              quantity=order.quantity, points_spent=order.points, state=order.state), False

    fp = idempotency.fingerprint({"kind": "gift", "product_id": body.product_id, "quantity": body.quantity,
                                  "address": body.address.model_dump(exclude_none=True)})
    try:
        return idempotency.commit_once(SCOPE, user_id, key, fp, build, replay)
    except TxCancelled as exc:
        # The figures moved between the read and the commit (a concurrent redemption, an operator's change).
        if gift_ledger.LIMIT_LABEL in exc:
            raise _refuse("gift_limit_reached") from exc
        if gift_ledger.BALANCE_LABEL in exc:
            raise _refuse("insufficient_points", balance=repository.get_points(user_id)) from exc
        if orders.points_gift_failure(exc) == "out_of_stock":
            raise _refuse("gift_out_of_stock") from exc
        raise problems.Conflict("A concurrent change won; retry.", code="concurrent_update", retryable=True) from exc


def _figures(why: str, product: catalog.Product, quantity: int, user_id: str) -> dict:
    if why == "insufficient_points":
        return {"points_cost": rules.gift_cost(product.points_price, quantity), "balance": repository.get_points(user_id)}
    if why == "gift_limit_reached":
        return {"limit": product.points_limit or rules.DEFAULT_GIFT_LIMIT}
    if why == "gift_out_of_stock":
        return {"stock": product.stock}
    return {}

"""Gifts for points through the API on moto: POST /v1/points/redemptions {kind: gift}, the zero-amount
points_gift order shipped and received through fulfilment, the buyer's cancel before shipping, races."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.commerce_fixtures import ADDRESS, key, table_items

pytestmark = pytest.mark.integration

MONEY_EVENTS = {"OrderCreated", "OrderPaid", "OrderRefundRequired", "OrderRefunded", "AfterSaleRefundApproved"}


def _gift(shop, *, stock, points_price, points_limit=None, name="保温杯"):
    body = {"name": name, "images": ["https://img.example.com/cup.jpg"], "list_price": 5900, "stock": stock,
            "points_price": points_price}
    if points_limit is not None:
        body["points_limit"] = points_limit
    return shop.ok(shop.call("POST", "/v1/products", "operator-1", body))


def _redeem(shop, user, product_id, quantity=1, idem=None, address=ADDRESS):
    return shop.call("POST", "/v1/points/redemptions", user, {"kind": "gift", "product_id": product_id,
                                                             "quantity": quantity, "address": address},
                     idem=idem or key())


def _balance(shop, user):
    return shop.ok(shop.call("GET", "/v1/me/points", user))["balance"]


def _stock(shop, product_id):
    return shop.ok(shop.call("GET", f"/v1/products/{product_id}"))["stock"]


def _gift_orders(session):
    return [i for i in table_items(session, "orders", "ORDER#") if i["sk"] == "META" and i["kind"] == "points_gift"]


def test_a_gift_is_redeemed_shipped_and_received_never_as_money(shop, seeded, bus):
    from livecommerce import orders
    from livecommerce.marketing import service

    gift = _gift(shop, stock=3, points_price=300, points_limit=2)
    assert (gift["points_price"], gift["points_limit"]) == (300, 2)
    plain = shop.product(stock=10)
    for bad in ({"points_price": 0}, {"points_price": "300"}, {"points_price": 1.5}, {"points_limit": 0}):
        response = shop.call("POST", "/v1/products", "operator-1", {"name": "x", "list_price": 100, "stock": 1, **bad})
        assert response.status == 422, (bad, response.body)
    assert shop.call("PATCH", f"/v1/products/{plain}", "host-1", {"points_price": 10}).status == 403
    service.award_points("viewer-1", 1000, reason="quiz", ref="quiz:gift-1")
    service.award_points("viewer-2", 100, reason="quiz", ref="quiz:gift-2")

    # Bad input: a clear problem and nothing changes.
    refused = {
        "not_a_gift": _redeem(shop, "viewer-1", plain),
        "gift_limit_reached": _redeem(shop, "viewer-1", gift["id"], quantity=3),
        "insufficient_points": _redeem(shop, "viewer-2", gift["id"]),
        "product_not_found": _redeem(shop, "viewer-1", "01J00000000000000000000000"),
    }
    assert {code: (r.status, r.json()["code"]) for code, r in refused.items()} == {
        "not_a_gift": (409, "not_a_gift"), "gift_limit_reached": (409, "gift_limit_reached"),
        "insufficient_points": (409, "insufficient_points"), "product_not_found": (404, "product_not_found")}
    assert refused["insufficient_points"].json()["balance"] == 100
    for bad in ({**ADDRESS, "phone": "12345"}, {k: v for k, v in ADDRESS.items() if k != "detail"}):
        response = _redeem(shop, "viewer-1", gift["id"], address=bad)
        assert response.status == 422 and response.headers["Content-Type"].startswith("application/problem+json")
    assert _redeem(shop, "viewer-1", gift["id"], quantity=0).status == 422
    assert _redeem(shop, "viewer-1", gift["id"], quantity="1").status == 422                  # strict integers
    assert (_balance(shop, "viewer-1"), _stock(shop, gift["id"]), _gift_orders(seeded)) == (1000, 3, [])

    # Redeem two units: points, stock and the order in one go; a retry with the same key changes nothing.
    k = key()
    made = _redeem(shop, "viewer-1", gift["id"], quantity=2, idem=k)
    assert made.status == 201, made.body
    redemption = made.json()
    assert redemption["kind"] == "gift" and redemption["points_spent"] == 600 and redemption["state"] == "paid"
    again = _redeem(shop, "viewer-1", gift["id"], quantity=2, idem=k)
    assert again.status == 200 and again.json()["order_id"] == redemption["order_id"]
    other_body = _redeem(shop, "viewer-1", gift["id"], quantity=1, idem=k)                     # same key, new body
    assert other_body.status == 422
    assert (_balance(shop, "viewer-1"), _stock(shop, gift["id"]), len(_gift_orders(seeded))) == (400, 1, 1)
    ledger = shop.ok(shop.call("GET", "/v1/me/points", "viewer-1"))["ledger"]
    assert [(e["delta"], e["reason"], e["ref"]) for e in ledger][0] == (-600, "gift_redemption",
                                                                        redemption["order_id"])
    # Two units held: the per-user limit of 2 refuses a third, whatever the points and stock.
    assert _redeem(shop, "viewer-1", gift["id"]).json()["code"] == "gift_limit_reached"

    order_id = redemption["order_id"]
    order = shop.ok(shop.call("GET", f"/v1/orders/{order_id}", "viewer-1"))
    assert (order["kind"], order["total"], order["state"], order["points_gift"]) == (
        "points_gift", 0, "paid", {"points": 600, "points_price": 300})
    assert order["lines"][0]["product_id"] == gift["id"] and order["lines"][0]["quantity"] == 2
    assert order_id in [o["id"] for o in shop.ok(shop.call("GET", "/v1/me/orders", "viewer-1"))["items"]]
    # No money: not payable, no money refund.
    pay = shop.call("POST", f"/v1/orders/{order_id}/payments", "viewer-1", {"channel": "wechat"}, idem=key())
    assert pay.status == 409, pay.body
    refund = shop.call("POST", f"/v1/orders/{order_id}/after-sales", "viewer-1", {}, idem=key())
    assert refund.status == 409 and refund.json()["code"] == "points_gift_not_refundable"

    # The store ships it (an operator; a host runs no room of it), the buyer receives it.
    shipment = {"carrier": "SF", "tracking_number": "SF1234567890123"}
    assert shop.call("POST", f"/v1/orders/{order_id}/shipments", "host-1", shipment).status in (403, 404)
    shipped = shop.ok(shop.call("POST", f"/v1/orders/{order_id}/shipments", "operator-1", shipment))
    assert shipped["state"] == "shipped"
    late = shop.call("POST", f"/v1/orders/{order_id}/cancel", "viewer-1")
    assert late.status == 409 and late.json()["code"] == "order_not_cancellable"
    assert shop.ok(shop.call("POST", f"/v1/orders/{order_id}/receipt", "viewer-1"))["state"] == "delivered"
    assert (_balance(shop, "viewer-1"), _stock(shop, gift["id"])) == (400, 1)

    types = [t for t, d, _ in bus if order_id in (d.get("order_id"), d.get("ref"))]
    assert Counter(types) == Counter({"PointsChanged": 1, "GiftRedeemed": 1, "OrderShipped": 1,
                                      "OrderDelivered": 1})
    assert not MONEY_EVENTS & set(types)                # analytics counts orders and GMV from OrderCreated/OrderPaid
    today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    assert all(s.order_id != order_id for s in orders.settlements_on(today))   # reconciliation never sees it

    # The operator takes the gift off the points shelf: null clears the price.
    patched = shop.ok(shop.call("PATCH", f"/v1/products/{gift['id']}", "operator-1", {"points_price": None}))
    assert patched["points_price"] is None and patched["points_limit"] is None
    assert _redeem(shop, "viewer-1", gift["id"]).json()["code"] == "not_a_gift"


def test_cancel_before_shipping_gives_points_and_stock_back_once(shop, seeded):
    from livecommerce.marketing import service
    from livecommerce.orders import points_gifts, repository
    from livecommerce.orders.service import order_fields

    gift = _gift(shop, stock=5, points_price=100, points_limit=3)
    service.award_points("viewer-1", 1000, reason="quiz", ref="quiz:gift-3")
    order_id = shop.ok(_redeem(shop, "viewer-1", gift["id"], quantity=3))["order_id"]
    assert (_balance(shop, "viewer-1"), _stock(shop, gift["id"])) == (700, 2)
    stale = repository.get_order(order_id)                            # read as paid, before the cancel

    assert shop.call("POST", f"/v1/orders/{order_id}/cancel", "viewer-2").status in (403, 404)
    cancelled = shop.ok(shop.call("POST", f"/v1/orders/{order_id}/cancel", "viewer-1"))
    assert cancelled["state"] == "cancelled"
    assert (_balance(shop, "viewer-1"), _stock(shop, gift["id"])) == (1000, 5)
    # Again through the API, and a racing cancel that read the order as paid: nothing more comes back.
    assert shop.ok(shop.call("POST", f"/v1/orders/{order_id}/cancel", "viewer-1"))["state"] == "cancelled"
    assert points_gifts.cancel(stale, order_fields).state == "cancelled"
    assert (_balance(shop, "viewer-1"), _stock(shop, gift["id"])) == (1000, 5)
    ledger = shop.ok(shop.call("GET", "/v1/me/points", "viewer-1"))["ledger"]
    assert [(e["delta"], e["reason"]) for e in ledger][:2] == [(300, "gift_returned"), (-300, "gift_redemption")]
    assert len([e for e in ledger if e["reason"] == "gift_returned"]) == 1
    shipment = {"carrier": "SF", "tracking_number": "SF1234567890123"}
    assert shop.call("POST", f"/v1/orders/{order_id}/shipments", "operator-1", shipment).status == 409
    # The cancelled units no longer count against the viewer's limit.
    assert _redeem(shop, "viewer-1", gift["id"], quantity=3).status == 201

    # A shipment and a cancel racing for each of four orders: exactly one wins each; points and units
    # come back for the cancelled ones only.
    from livecommerce.orders import fulfilment_service, service as orders_service
    from livecommerce.orders.fulfilment_models import ShipmentRequest
    from livecommerce.shared import problems
    from livecommerce.shared.api import Caller

    racer = _gift(shop, stock=4, points_price=10, points_limit=10)
    service.award_points("viewer-3", 100, reason="quiz", ref="quiz:gift-race")
    ids = [shop.ok(_redeem(shop, "viewer-3", racer["id"]))["order_id"] for _ in range(4)]
    operator, buyer = Caller("operator-1", frozenset({"operator"})), Caller("viewer-3", frozenset({"viewer"}))

    def ship(order_id):
        try:
            return fulfilment_service.ship(operator, order_id, ShipmentRequest(
                carrier="SF", tracking_number=f"SF{ids.index(order_id) + 1:012d}")).state
        except problems.Problem as exc:
            return exc.code

    def cancel(order_id):
        try:
            return orders_service.cancel_order(buyer, order_id).state
        except problems.Problem as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=8) as pool:             # both submitted before either is awaited
        racing = [(pool.submit(ship, i), pool.submit(cancel, i)) for i in ids]
        shipped, cancelled = [s.result() for s, _ in racing], [c.result() for _, c in racing]
    final = {o["id"]: o["state"] for o in shop.ok(shop.call("GET", "/v1/me/orders", "viewer-3"))["items"]}
    for order_id, s_result, c_result in zip(ids, shipped, cancelled):
        assert final[order_id] in ("shipped", "cancelled")
        assert (s_result == "shipped") == (final[order_id] == "shipped") != (c_result == "cancelled"), \
            (s_result, c_result)
    n_cancelled = sum(1 for i in ids if final[i] == "cancelled")
    assert (_balance(shop, "viewer-3"), _stock(shop, racer["id"])) == (100 - 10 * (4 - n_cancelled), n_cancelled)


def _redeem_direct(user, product_id, idem=None):
    """The use case itself from many threads (the in-process API harness shares one resolver's current
    event between threads, so concurrent calls through it would mix callers): ("ok", redemption) or
    ("problem", code)."""
    from livecommerce.marketing import gifts
    from livecommerce.marketing.gift_models import GiftRedemptionRequest
    from livecommerce.shared import problems
    from livecommerce.shared.api import Caller

    body = GiftRedemptionRequest(kind="gift", product_id=product_id, quantity=1, address=ADDRESS)
    try:
        redemption, created = gifts.redeem_gift(Caller(user, frozenset({"viewer"})), body, idem or key())
        return ("created" if created else "replayed", redemption.order_id)
    except problems.Problem as exc:
        return ("problem", exc.code)


def test_concurrent_redemptions_of_the_last_unit_one_wins_and_retries_change_nothing(shop, seeded):
    from livecommerce.marketing import service

    gift = _gift(shop, stock=1, points_price=50)
    users = [f"gift-viewer-{n}" for n in range(8)]
    for user in users:
        service.award_points(user, 80, reason="quiz", ref=f"quiz:{user}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda u: _redeem_direct(u, gift["id"]), users))
    assert Counter(r[0] for r in results) == {"created": 1, "problem": 7}, results
    assert {r[1] for r in results if r[0] == "problem"} == {"gift_out_of_stock"}
    winner = users[[r[0] for r in results].index("created")]
    assert _stock(shop, gift["id"]) == 0 and len(_gift_orders(seeded)) == 1
    assert {u: _balance(shop, u) for u in users} == {u: 30 if u == winner else 80 for u in users}

    # One viewer's retries of one request from many threads: one redemption, one debit.
    second = _gift(shop, stock=10, points_price=20, points_limit=5)
    k = key()
    with ThreadPoolExecutor(max_workers=6) as pool:
        retries = list(pool.map(lambda _: _redeem_direct("gift-viewer-0", second["id"], idem=k), range(6)))
    assert all(r[0] in ("created", "replayed") or r[1] == "concurrent_update" for r in retries), retries
    made = [r for r in retries if r[0] != "problem"]
    assert [r[0] for r in made].count("created") == 1 and len({r[1] for r in made}) == 1
    before = 30 if winner == "gift-viewer-0" else 80
    assert (_balance(shop, "gift-viewer-0"), _stock(shop, second["id"])) == (before - 20, 9)

"""Orders and flash-sale routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from livecommerce.orders.models import (CreateFlashSaleRequest, CreateOrderRequest, FlashBuyRequest, FlashSale,
                                        FlashSaleList, FlashSalePrewarm, Order, OrderPage)
from livecommerce.orders.fulfilment_models import (AfterSale, AfterSaleDecision, AfterSaleRequest, BulkShipmentRequest,
                                                   BulkShipmentResult, ShipmentRequest)
from livecommerce.shared.api import BEARER, Api

Ulid = r"^[0-9A-HJKMNP-TV-Z]{26}$"
RoomId = Annotated[str, Path(pattern=Ulid, description="Room id (ULID).")]
OrderId = Annotated[str, Path(pattern=Ulid, description="Order id (ULID).")]
SaleId = Annotated[str, Path(pattern=Ulid, description="Flash sale id (ULID).")]
AfterSaleId = Annotated[str, Path(pattern=Ulid, description="After-sale id (ULID).")]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=100,
                                       pattern=r"^[A-Za-z0-9_.:\-]+$",
                                       description="The same value on every retry of this request; "
                                                   "a retry returns the first request's order.")]
Limit = Annotated[int, Query(ge=1, le=50)]
Cursor = Annotated[str | None, Query(max_length=1024)]


def _orders():
    from livecommerce.orders import service  # deferred: pynamodb/botocore (entry module cold start)

    return service


def _flash():
    from livecommerce.orders import flash  # deferred: pynamodb/botocore (entry module cold start)

    return flash


def _fulfilment():
    from livecommerce.orders import fulfilment_service  # deferred: pynamodb/botocore (entry module cold start)

    return fulfilment_service


def build_router(api: Api) -> Router:
    router = Router()

    @router.post("/v1/orders", tags=["orders"], security=BEARER,
                 summary="Order from a room: the server prices it and holds the stock (Idempotency-Key)")
    def create_order(body: CreateOrderRequest, idempotency_key: IdempotencyKey) -> tuple[Order, int]:
        return _orders().create_order(api.caller(), body, idempotency_key), 201

    @router.get("/v1/orders/<order_id>", tags=["orders"], security=BEARER, summary="An order of the caller")
    def get_order(order_id: OrderId) -> Order:
        return _orders().get_order(api.caller(), order_id)

    @router.get("/v1/me/orders", tags=["orders"], security=BEARER, summary="The caller's orders, newest first")
    def my_orders(limit: Limit = 20, cursor: Cursor = None) -> OrderPage:
        return _orders().my_orders(api.caller(), limit=limit, cursor=cursor)

    @router.get("/v1/rooms/<room_id>/orders", tags=["orders"], security=BEARER,
                summary="A room's orders, newest first, with payment, shipping and refund state (its host, operators)")
    def room_orders(room_id: RoomId, limit: Limit = 20, cursor: Cursor = None) -> OrderPage:
        return _orders().room_orders(api.require("host"), room_id, limit=limit, cursor=cursor)

    @router.post("/v1/orders/<order_id>/cancel", tags=["orders"], security=BEARER,
                 summary="Cancel an unpaid order: its stock and coupon come back")
    def cancel(order_id: OrderId) -> Order:
        return _orders().cancel_order(api.caller(), order_id)

    @router.post("/v1/rooms/<room_id>/flash-sales", tags=["flash sales"], security=BEARER,
                 summary="Start a flash sale now or at a time (hosts)")
    def create_sale(room_id: RoomId, body: CreateFlashSaleRequest) -> tuple[FlashSale, int]:
        return _flash().create_flash_sale(api.require("host"), room_id, body), 201

    @router.get("/v1/rooms/<room_id>/flash-sales", tags=["flash sales"], summary="The room's flash sales")
    def room_sales(room_id: RoomId) -> FlashSaleList:
        return _flash().room_flash_sales(api.optional_caller(), room_id)

    @router.get("/v1/flash-sales/<sale_id>", tags=["flash sales"], summary="Stock left, start and end (countdown)")
    def get_sale(sale_id: SaleId) -> FlashSale:
        return _flash().get_flash_sale(api.optional_caller(), sale_id)

    @router.post("/v1/flash-sales/<sale_id>/orders", tags=["flash sales"], security=BEARER,
                 summary="Buy: an order holding the stock until paid or expired (Idempotency-Key)")
    def buy(sale_id: SaleId, body: FlashBuyRequest, idempotency_key: IdempotencyKey) -> tuple[Order, int]:
        return _flash().buy(api.caller(), sale_id, body, idempotency_key), 201

    @router.post("/v1/flash-sales/<sale_id>/prewarm", tags=["flash sales"], security=BEARER,
                 summary="Before a big sale: warm the tables for its expected rate (operators)")
    def prewarm(sale_id: SaleId) -> FlashSalePrewarm:
        from livecommerce.orders import prewarm  # deferred: botocore/pynamodb (entry module cold start)

        return prewarm.prewarm(api.caller(), sale_id)      # operators only: checked after the room's visibility

    @router.post("/v1/orders/<order_id>/shipments", tags=["fulfilment"], security=BEARER,
                 summary="Ship a paid order: carrier and tracking number (the room's host or an operator)")
    def ship(order_id: OrderId, body: ShipmentRequest) -> Order:
        return _fulfilment().ship(api.require("host"), order_id, body)

    @router.post("/v1/shipments", tags=["fulfilment"], security=BEARER,
                 summary="Ship several orders at once: per-order results, a retry changes nothing")
    def ship_many(body: BulkShipmentRequest) -> BulkShipmentResult:
        return _fulfilment().ship_many(api.require("host"), body)

    @router.post("/v1/orders/<order_id>/receipt", tags=["fulfilment"], security=BEARER,
                 summary="The buyer confirms receipt (otherwise confirmed automatically after a set number of days)")
    def receipt(order_id: OrderId) -> Order:
        return _fulfilment().confirm_receipt(api.caller(), order_id)

    @router.post("/v1/orders/<order_id>/after-sales", tags=["after-sales"], security=BEARER,
                 summary="Ask for money back: before shipping refunded at once, after shipping with a reason "
                         "and the host's approval, within the window (Idempotency-Key)")
    def request_after_sale(order_id: OrderId, body: AfterSaleRequest,
                           idempotency_key: IdempotencyKey) -> tuple[AfterSale, int]:
        return _fulfilment().request_after_sale(api.caller(), order_id, body, idempotency_key), 201

    @router.post("/v1/after-sales/<after_sale_id>/approve", tags=["after-sales"], security=BEARER,
                 summary="Approve an after-sale: the refund goes to the payment provider (the room's host or an "
                         "operator)")
    def approve(after_sale_id: AfterSaleId, body: AfterSaleDecision | None = None) -> AfterSale:
        return _fulfilment().decide_after_sale(api.require("host"), after_sale_id, True, body)

    @router.post("/v1/after-sales/<after_sale_id>/reject", tags=["after-sales"], security=BEARER,
                 summary="Reject an after-sale (the room's host or an operator)")
    def reject(after_sale_id: AfterSaleId, body: AfterSaleDecision | None = None) -> AfterSale:
        return _fulfilment().decide_after_sale(api.require("host"), after_sale_id, False, body)

    return router

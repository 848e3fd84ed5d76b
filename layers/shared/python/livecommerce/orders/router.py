"""Orders and flash-sale routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query

from livecommerce.orders.models import (CreateFlashSaleRequest, CreateOrderRequest, FlashBuyRequest, FlashSale,
                                        FlashSaleList, Order, OrderPage)
from livecommerce.shared.api import BEARER, Api

Ulid = r"^[0-9A-HJKMNP-TV-Z]{26}$"
RoomId = Annotated[str, Path(pattern=Ulid, description="Room id (ULID).")]
OrderId = Annotated[str, Path(pattern=Ulid, description="Order id (ULID).")]
SaleId = Annotated[str, Path(pattern=Ulid, description="Flash sale id (ULID).")]
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

    return router

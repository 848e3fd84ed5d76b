"""Catalog routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from livecommerce.catalog.models import (CardList, CreateProductRequest, ListingChange, PresetList, PresetsRequest,
                                         Product, UpdateProductRequest)
from livecommerce.shared.api import BEARER, Api

Ulid = r"^[0-9A-HJKMNP-TV-Z]{26}$"
RoomId = Annotated[str, Path(pattern=Ulid, description="Room id (ULID).")]
ProductId = Annotated[str, Path(pattern=Ulid, description="Product id (ULID).")]


def _service():
    from livecommerce.catalog import service  # deferred: pynamodb/botocore (entry module cold start)

    return service


def build_router(api: Api) -> Router:
    router = Router()

    @router.post("/v1/products", tags=["catalog"], security=BEARER, summary="Add a product to the library (operators)")
    def create_product(body: CreateProductRequest) -> tuple[Product, int]:
        return _service().create_product(api.require("operator"), body), 201

    @router.get("/v1/products/<product_id>", tags=["catalog"], summary="A product of the library")
    def get_product(product_id: ProductId) -> Product:
        return _service().get_product(product_id)

    @router.patch("/v1/products/<product_id>", tags=["catalog"], security=BEARER, summary="Edit a product (operators)")
    def update_product(product_id: ProductId, body: UpdateProductRequest) -> Product:
        return _service().update_product(api.require("operator"), product_id, body)

    @router.put("/v1/rooms/<room_id>/products", tags=["catalog"], security=BEARER,
                summary="Set the room's presets: order, live price, live stock, promotion note")
    def replace_presets(room_id: RoomId, body: PresetsRequest) -> PresetList:
        return _service().replace_presets(api.require("host"), room_id, body)

    @router.get("/v1/rooms/<room_id>/products", tags=["catalog"], security=BEARER,
                summary="The room's presets, listed or not (hosts)")
    def room_presets(room_id: RoomId) -> PresetList:
        return _service().room_presets(api.require("host"), room_id)

    @router.post("/v1/rooms/<room_id>/products/listing", tags=["catalog"], security=BEARER,
                 summary="Put every preset on the shelf")
    def list_all(room_id: RoomId) -> ListingChange:
        return _service().set_listing(api.caller(), room_id, None, True)

    @router.delete("/v1/rooms/<room_id>/products/listing", tags=["catalog"], security=BEARER,
                   summary="Take every product off the shelf")
    def unlist_all(room_id: RoomId) -> ListingChange:
        return _service().set_listing(api.caller(), room_id, None, False)

    @router.post("/v1/rooms/<room_id>/products/<product_id>/listing", tags=["catalog"], security=BEARER,
                 summary="Put one product on the shelf")
    def list_one(room_id: RoomId, product_id: ProductId) -> ListingChange:
        return _service().set_listing(api.caller(), room_id, product_id, True)

    @router.delete("/v1/rooms/<room_id>/products/<product_id>/listing", tags=["catalog"], security=BEARER,
                   summary="Take one product off the shelf")
    def unlist_one(room_id: RoomId, product_id: ProductId) -> ListingChange:
        return _service().set_listing(api.caller(), room_id, product_id, False)

    @router.get("/v1/rooms/<room_id>/cards", tags=["catalog"],
                summary="Light product cards of the room: name, image, live price, stock left, state")
    def cards(room_id: RoomId) -> CardList:
        return _service().cards(api.optional_caller(), room_id)

    return router

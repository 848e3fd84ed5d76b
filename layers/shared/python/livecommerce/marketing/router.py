"""Marketing routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query

from livecommerce.marketing.models import (Arrival, Coupon, CouponPage, CreateDropRequest, CreateTemplateRequest,
                                           Drop, DropPage, Points, ShareCode, Template)
from livecommerce.marketing.gift_models import AnyRedemption, AnyRedemptionRequest, GiftRedemptionRequest
from livecommerce.shared.api import BEARER, Api

Ulid = r"^[0-9A-HJKMNP-TV-Z]{26}$"
RoomId = Annotated[str, Path(pattern=Ulid, description="Room id (ULID).")]
DropId = Annotated[str, Path(pattern=Ulid, description="Coupon drop id (ULID).")]
ShareCodePath = Annotated[str, Path(pattern=r"^[2-9A-HJ-NP-Z]{10}$", description="Share code.")]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=100,
                                       pattern=r"^[A-Za-z0-9_.:\-]+$",
                                       description="The same value on every retry of this request.")]
Limit = Annotated[int, Query(ge=1, le=50)]
Cursor = Annotated[str | None, Query(max_length=1024)]


def _service():
    from livecommerce.marketing import service  # deferred: pynamodb/botocore, not paid at the handler's import

    return service


def _gifts():
    from livecommerce.marketing import gifts  # deferred: pynamodb/botocore, not paid at the handler's import

    return gifts


def build_router(api: Api) -> Router:
    router = Router()

    @router.post("/v1/coupon-templates", tags=["marketing"], security=BEARER,
                 summary="Create a coupon template: threshold (满减) or no threshold")
    def create_template(body: CreateTemplateRequest) -> tuple[Template, int]:
        return _service().create_template(api.require("host"), body), 201

    @router.post("/v1/rooms/<room_id>/coupon-drops", tags=["marketing"], security=BEARER,
                 summary="Drop a template's coupons into the room, now or at a time")
    def create_drop(room_id: RoomId, body: CreateDropRequest) -> tuple[Drop, int]:
        return _service().create_drop(api.caller(), room_id, body), 201

    @router.get("/v1/rooms/<room_id>/coupon-drops", tags=["marketing"], security=BEARER,
                summary="The room's coupon drops, newest first: scheduled, open (coupons left), exhausted, ended "
                        "(host, operators, assistants who drop coupons)")
    def room_drops(room_id: RoomId, limit: Limit = 20, cursor: Cursor = None) -> DropPage:
        return _service().room_drops(api.caller(), room_id, limit=limit, cursor=cursor)

    @router.get("/v1/coupon-drops/<drop_id>", tags=["marketing"], summary="A drop: coupons left, state")
    def get_drop(drop_id: DropId) -> Drop:
        return _service().get_drop(api.optional_caller(), drop_id)

    @router.post("/v1/coupon-drops/<drop_id>/claim", tags=["marketing"], security=BEARER,
                 summary="Claim a coupon into the coupon centre (Idempotency-Key)")
    def claim(drop_id: DropId, idempotency_key: IdempotencyKey) -> tuple[Coupon, int]:
        coupon, created = _service().claim(api.caller(), drop_id, idempotency_key)
        return coupon, 201 if created else 200

    @router.get("/v1/me/coupons", tags=["marketing"], security=BEARER, summary="Coupon centre")
    def my_coupons(state: Annotated[Literal["available", "locked", "used", "expired", "all"], Query()] = "all",
                   limit: Limit = 20, cursor: Cursor = None) -> CouponPage:
        return _service().my_coupons(api.caller(), state=state, limit=limit, cursor=cursor)

    @router.post("/v1/rooms/<room_id>/shares", tags=["marketing"], security=BEARER,
                 summary="The caller's share code for the room")
    def share(room_id: RoomId) -> tuple[ShareCode, int]:
        code, created = _service().share_code(api.caller(), room_id)
        return code, 201 if created else 200

    @router.post("/v1/shares/<code>/arrivals", tags=["marketing"], security=BEARER,
                 summary="A viewer arrived through a share code (the sharer may get the share coupon)")
    def arrive(code: ShareCodePath) -> Arrival:
        return _service().arrive(api.caller(), code)

    @router.get("/v1/me/points", tags=["marketing"], security=BEARER, summary="Points balance and ledger")
    def points(limit: Limit = 20, cursor: Cursor = None) -> Points:
        return _service().points(api.caller(), limit=limit, cursor=cursor)

    @router.post("/v1/points/redemptions", tags=["marketing"], security=BEARER,
                 summary="Exchange points for a coupon or a catalog gift (Idempotency-Key)",
                 description="`{template_id}` (kind `coupon`, the default): a coupon of a template with a "
                             "`points_cost`. `{kind: \"gift\", product_id, quantity, address}`: a catalog "
                             "product with a `points_price`; the points, the units (from the product's stock) and "
                             "a zero-amount order (kind `points_gift`, shipped by an operator, cancellable before "
                             "it ships: points and stock come back) commit together.")
    def redeem(body: Annotated[AnyRedemptionRequest, Body()], idempotency_key: IdempotencyKey) -> tuple[AnyRedemption, int]:
        if isinstance(body, GiftRedemptionRequest):
            redemption, created = _gifts().redeem_gift(api.caller(), body, idempotency_key)
        else:
            redemption, created = _service().redeem(api.caller(), body, idempotency_key)
        return redemption, 201 if created else 200

    return router

"""Analytics routes: the post-live report, its workbook, viewers with tags, comparisons, product stats."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from livecommerce.analytics.live_models import LiveStats
from livecommerce.analytics.report_models import Comparison, ProductStats, Report, ViewerPage
from livecommerce.shared.api import BEARER, Api

Ulid = r"^[0-9A-HJKMNP-TV-Z]{26}$"
RoomId = Annotated[str, Path(pattern=Ulid, description="Room id (ULID).")]
ProductId = Annotated[str, Path(pattern=Ulid, description="Product id (ULID).")]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=1024)]
ProductRooms = Annotated[int, Query(ge=1, le=200, description="Rooms per page: the product's sessions in up to "
                                                              "this many of the rooms that presented it.")]
Tag = Annotated[str | None, Query(max_length=32, description="Only viewers with this tag (livecommerce.analytics.tags).")]
Rooms = Annotated[str | None, Query(max_length=300, description="2 to 10 room ids, comma-separated (422 "
                                                                   "invalid_rooms); or `products`, not both.")]
Products = Annotated[str | None, Query(max_length=300, description="2 to 10 product ids, comma-separated: the "
                                                                   "products over every session the caller may "
                                                                   "read (a host's own, all for operators; 422 "
                                                                   "invalid_products); or `rooms`, not both.")]
XLSX_ANSWERS = {303: {"description": "See Other: `Location` is a presigned link to the workbook (valid 300 s); "
                                      "the body says the same as JSON (`url`, `expires_in`)."},
                200: {"description": "With `redirect=false`: the same link as JSON (`url`, `expires_in`), no "
                                     "redirect (a browser's fetch would follow the 303 to the bucket itself)."}}
# A page's fetch follows a 303 on its own (to another origin, where the bucket has no CORS for it), so the
# web dashboard asks for the link as JSON and opens it.
Redirect = Annotated[bool, Query(description="false: answer 200 with the link as JSON instead of a 303.")]


def _service():
    from livecommerce.analytics import report_service  # deferred: pynamodb/boto3/duckdb (entry module cold start)

    return report_service


def build_router(api: Api) -> Router:
    router = Router()

    @router.get("/v1/rooms/<room_id>/stats", tags=["analytics"], security=BEARER,
                summary="The post-live report of the room (its host and operators)")
    def room_stats(room_id: RoomId) -> Report:
        return _service().report(api.require("host"), room_id)[0]

    @router.get("/v1/rooms/<room_id>/stats/live", tags=["analytics"], security=BEARER,
                summary="Live figures of the room: online now, peak, cumulative viewers, orders, GMV, per minute "
                        "(its host, its assistants, operators; also pushed to the host every 5 s)")
    def room_live_stats(room_id: RoomId) -> LiveStats:
        return _service().live_stats(api.caller(), room_id)   # assistants are viewers: rooms.require_room_staff

    @router.get("/v1/rooms/<room_id>/stats.xlsx", tags=["analytics"], security=BEARER, responses=XLSX_ANSWERS,
                summary="The post-live report as an Excel workbook (a presigned link)")
    def room_stats_xlsx(room_id: RoomId, redirect: Redirect = True):  # noqa: ANN202 (a Response: no pydantic model)
        link = _service().export(api.require("host"), room_id)
        if not redirect:
            return Response(status_code=200, content_type="application/json", body=link.model_dump_json())
        return Response(status_code=303, content_type="application/json", body=link.model_dump_json(),
                        headers={"Location": link.url})

    @router.get("/v1/rooms/<room_id>/viewers", tags=["analytics"], security=BEARER,
                summary="The room's viewers: watch time, clicks, orders, amount, coupons, tags (paged)")
    def room_viewers(room_id: RoomId, tag: Tag = None, limit: Limit = 50, cursor: Cursor = None) -> ViewerPage:
        return _service().viewers(api.require("host"), room_id, tag, limit, cursor)

    @router.get("/v1/stats/compare", tags=["analytics"], security=BEARER,
                summary="A host's sessions (or products across their sessions) side by side, with the differences")
    def compare(rooms: Rooms = None, products: Products = None) -> Comparison:
        return _service().compare(api.require("host"), rooms, products)

    @router.get("/v1/products/<product_id>/stats", tags=["analytics"], security=BEARER,
                summary="A product across sessions: a host's own rooms, every room for an operator (paged by room)")
    def product_stats(product_id: ProductId, limit: ProductRooms = 200, cursor: Cursor = None) -> ProductStats:
        return _service().product_stats(api.require("host"), product_id, limit, cursor)

    return router

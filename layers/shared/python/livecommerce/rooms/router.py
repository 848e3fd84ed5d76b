"""Rooms routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from livecommerce.rooms.models import (Announcement, CoverUpload, CoverUploadRequest, CreateRoomRequest, Ingest, MaterialList, MaterialRequest,
                                       MaterialUpload, Playback, Reservation, ReservationPage, ReservationRequest,
                                       Room, RoomPage, SetCoverRequest, UpdateRoomRequest)
from livecommerce.identity import AssistantGrant, AssistantList, AssistantRemoved, AssistantRequest
from livecommerce.shared.api import BEARER, OPTIONAL_BEARER, Api

UserId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The assistant's user id.")]
RoomId = Annotated[str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="Room id (ULID).")]
Limit = Annotated[int, Query(ge=1, le=50)]
Cursor = Annotated[str | None, Query(max_length=1024)]


def _service():
    # Deferred so the entry module imports without pynamodb/botocore (cold start).
    from livecommerce.rooms import service  # deferred: pynamodb/botocore (cold start); the first request pays

    return service


def build_router(api: Api) -> Router:
    router = Router()

    @router.post("/v1/rooms", tags=["rooms"], security=BEARER, summary="Create a room (hosts)")
    def create_room(body: CreateRoomRequest) -> tuple[Room, int]:
        return _service().create_room(api.require("host"), body), 201

    @router.get("/v1/rooms", tags=["rooms"], summary="List public rooms by status")
    def list_rooms(status: Annotated[Literal["scheduled", "live", "ended"], Query()] = "live",
                   limit: Limit = 20, cursor: Cursor = None) -> RoomPage:
        return _service().list_rooms(status, limit=limit, cursor=cursor)

    @router.get("/v1/rooms/<room_id>", tags=["rooms"], security=OPTIONAL_BEARER, summary="Announcement page")
    def get_room(room_id: RoomId) -> Announcement:
        from livecommerce.rooms import announcement  # deferred: pynamodb/botocore (cold start)

        return announcement.announcement(api.optional_caller(), room_id)

    @router.patch("/v1/rooms/<room_id>", tags=["rooms"], security=BEARER, summary="Edit before the start")
    def update_room(room_id: RoomId, body: UpdateRoomRequest) -> Room:
        return _service().update_room(api.require("host"), room_id, body)

    @router.put("/v1/rooms/<room_id>/reservation", tags=["rooms"], security=BEARER, summary="Reserve a reminder")
    def reserve(room_id: RoomId, body: ReservationRequest) -> tuple[Reservation, int]:
        reservation, created = _service().reserve(api.caller(), room_id, body)
        return reservation, 201 if created else 200

    @router.delete("/v1/rooms/<room_id>/reservation", tags=["rooms"], security=BEARER, summary="Cancel a reservation")
    def cancel(room_id: RoomId) -> dict:
        return _service().cancel_reservation(api.caller(), room_id)

    @router.get("/v1/me/reservations", tags=["rooms"], security=BEARER, summary="The caller's reservations")
    def my_reservations(limit: Limit = 20, cursor: Cursor = None) -> ReservationPage:
        return _service().my_reservations(api.caller(), limit=limit, cursor=cursor)

    @router.get("/v1/rooms/<room_id>/ingest", tags=["rooms"], security=BEARER, summary="RTMPS server and stream key")
    def ingest(room_id: RoomId) -> Ingest:
        return _service().ingest(api.require("host"), room_id)

    @router.post("/v1/rooms/<room_id>/stream-key/rotate", tags=["rooms"], security=BEARER,
                 summary="Replace the stream key")
    def rotate(room_id: RoomId) -> Ingest:
        return _service().rotate_stream_key(api.require("host"), room_id)

    @router.get("/v1/rooms/<room_id>/playback", tags=["rooms"], security=BEARER,
                summary="Playback URL and a short-lived token")
    def playback(room_id: RoomId) -> Playback:
        return _service().playback(api.caller(), room_id)

    @router.post("/v1/rooms/<room_id>/start", tags=["rooms"], security=BEARER, summary="Start the live")
    def start(room_id: RoomId) -> Room:
        return _service().start_by_host(api.require("host"), room_id)

    @router.post("/v1/rooms/<room_id>/end", tags=["rooms"], security=BEARER, summary="End the live")
    def end(room_id: RoomId) -> Room:
        return _service().end_by_host(api.require("host"), room_id)

    @router.post("/v1/rooms/<room_id>/materials", tags=["rooms"], security=BEARER,
                 summary="Presigned upload of a script, image, video or slides")
    def add_material(room_id: RoomId, body: MaterialRequest) -> tuple[MaterialUpload, int]:
        from livecommerce.rooms import materials  # deferred: pynamodb/botocore (cold start)

        caller = api.require("host")
        _service().require_room_host(caller, room_id)
        return materials.request_upload(room_id, caller.user_id, body), 201

    @router.get("/v1/rooms/<room_id>/materials", tags=["rooms"], security=BEARER, summary="List materials")
    def list_materials(room_id: RoomId) -> MaterialList:
        from livecommerce.rooms import materials  # deferred: pynamodb/botocore (cold start)

        _service().require_room_host(api.require("host"), room_id)
        return materials.list_materials(room_id)

    @router.post("/v1/rooms/<room_id>/cover-uploads", tags=["rooms"], security=BEARER,
                 summary="Presigned upload of a cover image (JPEG, PNG or WebP, at most 5 MB)")
    def cover_upload(room_id: RoomId, body: CoverUploadRequest) -> tuple[CoverUpload, int]:
        from livecommerce.rooms import covers  # deferred: pynamodb/botocore (cold start)

        return covers.request_upload(api.require("host"), room_id, body), 201

    @router.put("/v1/rooms/<room_id>/cover", tags=["rooms"], security=BEARER,
                summary="Make an uploaded image the room's cover (checks its type, size and content)")
    def set_cover(room_id: RoomId, body: SetCoverRequest) -> Room:
        from livecommerce.rooms import covers  # deferred: pynamodb/botocore (cold start)

        return covers.set_cover(api.require("host"), room_id, body)

    @router.put("/v1/rooms/<room_id>/assistants/<user_id>", tags=["rooms"], security=BEARER,
                summary="Name an assistant for the room: moderate, list products, drop coupons, run lotteries "
                        "and polls (never prices, stock or payouts)")
    def put_assistant(room_id: RoomId, user_id: UserId, body: AssistantRequest) -> AssistantGrant:
        return _service().put_assistant(api.require("host"), room_id, user_id, body.capabilities)

    @router.delete("/v1/rooms/<room_id>/assistants/<user_id>", tags=["rooms"], security=BEARER,
                   summary="Remove an assistant of the room")
    def delete_assistant(room_id: RoomId, user_id: UserId) -> AssistantRemoved:
        return _service().delete_assistant(api.require("host"), room_id, user_id)

    @router.get("/v1/rooms/<room_id>/assistants", tags=["rooms"], security=BEARER,
                summary="Who assists in the room (its own grants and the host's all-rooms grants)")
    def list_assistants(room_id: RoomId) -> AssistantList:
        return _service().list_assistants(api.require("host"), room_id)

    return router

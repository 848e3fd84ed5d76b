"""Co-streaming and PK routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from livecommerce.media.models import CostreamState, InviteRequest, LayoutRequest, Pk, PkRequest, Seat, SeatWithToken
from livecommerce.media.replay_router import add_routes as add_replay_routes
from livecommerce.shared.api import BEARER, Api

RoomId = Annotated[str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="Room id (ULID).")]
RequestId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                description="A co-stream request or invitation (its user's id).")]


def _service():
    from livecommerce.media import service  # deferred: pynamodb/botocore, not paid at the handler's import

    return service


def build_router(api: Api) -> Router:
    router = Router()
    tags = ["costream"]
    # The host's routes check the role first (403 host_required, as for any room), before the room is
    # read: a viewer learns nothing about a test room (tests/integration/shared/test_authorization_matrix.py).

    @router.get("/v1/rooms/<room_id>/costream", tags=tags, security=BEARER,
                summary="The room's co-stream: layout, guests, PK, and the caller's own stage token")
    def get_state(room_id: RoomId) -> CostreamState:
        return _service().state(api.caller(), room_id)

    @router.post("/v1/rooms/<room_id>/costream/requests", tags=tags, security=BEARER,
                 summary="A viewer applies to co-stream (连麦); the host accepts or declines")
    def apply(room_id: RoomId) -> tuple[Seat, int]:
        return _service().apply(api.caller(), room_id), 201

    @router.post("/v1/rooms/<room_id>/costream/requests/<request_id>/accept", tags=tags, security=BEARER,
                 summary="The host accepts an application: the guest goes on stage (409 stage_full at 12 "
                         "publishers); the host's stage token is returned, the guest's goes to their private topic")
    def accept(room_id: RoomId, request_id: RequestId) -> SeatWithToken:
        return _service().accept_application(api.require("host"), room_id, request_id)

    @router.delete("/v1/rooms/<room_id>/costream/requests/<request_id>", tags=tags, security=BEARER,
                   summary="Decline, withdraw, hang up or remove a guest (the host, or the guest themselves)")
    def hang_up(room_id: RoomId, request_id: RequestId) -> Seat:
        return _service().hang_up(api.caller(), room_id, request_id)

    @router.post("/v1/rooms/<room_id>/costream/invitations", tags=tags, security=BEARER,
                 summary="The host invites another host or a viewer onto the stage")
    def invite(room_id: RoomId, body: InviteRequest) -> tuple[Seat, int]:
        return _service().invite(api.require("host"), room_id, body), 201

    @router.post("/v1/rooms/<room_id>/costream/invitations/<request_id>/accept", tags=tags, security=BEARER,
                 summary="The invitee accepts: on stage, with their participant token")
    def accept_invitation(room_id: RoomId, request_id: RequestId) -> SeatWithToken:
        return _service().accept_invitation(api.caller(), room_id, request_id)

    @router.post("/v1/rooms/<room_id>/costream/guests/<request_id>/mute", tags=tags, security=BEARER,
                 summary="The host mutes a guest: their publishing participant is disconnected; they may watch")
    def mute(room_id: RoomId, request_id: RequestId) -> Seat:
        return _service().mute(api.require("host"), room_id, request_id)

    @router.put("/v1/rooms/<room_id>/costream/layout", tags=tags, security=BEARER,
                summary="Compose the stage into the room's channel as a grid or picture-in-picture, or stop")
    def layout(room_id: RoomId, body: LayoutRequest) -> CostreamState:
        return _service().set_layout(api.require("host"), room_id, body)

    @router.post("/v1/rooms/<room_id>/pk", tags=tags, security=BEARER,
                 summary="PK: link with another live room for a window scored by likes or sales")
    def start_pk(room_id: RoomId, body: PkRequest) -> tuple[Pk, int]:
        return _service().start_pk(api.require("host"), room_id, body), 201

    @router.delete("/v1/rooms/<room_id>/pk", tags=tags, security=BEARER,
                   summary="End the PK now (outcome cancelled, scores as they stand) and unlink the stages")
    def end_pk(room_id: RoomId) -> Pk:
        return _service().end_pk_by_host(api.require("host"), room_id)

    add_replay_routes(router, api)   # the replays function's routes (livecommerce.media.replay_router)
    return router

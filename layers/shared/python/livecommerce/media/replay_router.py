"""Replay routes: thin, they validate, call livecommerce.media.replays and shape the reply."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from livecommerce.media.replay_models import Clip, ClipList, ClipRequest, Replay
from livecommerce.shared.api import BEARER, Api

RoomId = Annotated[str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="Room id (ULID).")]


def _replays():
    from livecommerce.media import replays  # deferred: pynamodb/botocore, not paid at the handler's import

    return replays


def build_router(api: Api) -> Router:
    """The replays function's router."""
    router = Router()
    add_routes(router, api)
    return router


def add_routes(router: Router, api: Api) -> None:
    """The replay routes, added to the media context's router too (the OpenAPI document)."""
    tags = ["replays"]

    @router.get("/v1/rooms/<room_id>/replay", tags=tags, security=BEARER,
                summary="The room's replay: playlist URL, duration, thumbnails and the product timeline "
                        "(404 replay_not_found, 409 replay_not_ready)")
    def get_replay(room_id: RoomId) -> Replay:
        return Replay(**_replays().get_replay(api.caller(), room_id))

    @router.get("/v1/rooms/<room_id>/replay/clips", tags=tags, security=BEARER,
                summary="The replay's clips: one per listed product, and those hosts cut")
    def list_clips(room_id: RoomId) -> ClipList:
        return ClipList(items=[Clip(**c) for c in _replays().list_clips(api.caller(), room_id)])

    @router.post("/v1/rooms/<room_id>/replay/clips", tags=tags, security=BEARER,
                 summary="The host cuts a clip by start and end (an HLS playlist over the recorded segments, "
                         "no transcoding; 422 clip_outside_recording)")
    def create_clip(room_id: RoomId, body: ClipRequest) -> tuple[Clip, int]:
        # only hosts and operators, refused before the room is read (a test room's existence does not leak)
        clip = _replays().create_clip(api.require("host"), room_id, body.start_seconds, body.end_seconds,
                                      body.product_id, body.title)
        return Clip(**clip), 201

"""Interaction routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Response, Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from livecommerce.interaction.models import (BanRequest, Danmaku, DanmakuRequest, DanmakuSettings,
                                             DanmakuSettingsRequest, LikesAccepted, LikesRequest, Moderation,
                                             ModerationPage, MuteRequest, Realtime, RoomFeed,
                                             RoomSnapshot)
from livecommerce.shared.api import BEARER, Api
from livecommerce.shared.bearer import bearer_token

RoomId = Annotated[str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="Room id (ULID).")]
Limit = Annotated[int, Query(ge=1, le=50, description="At most this many per page.")]
# No description of its own: the document gives every paged list's cursor the same one
# (livecommerce.shared.openapi.CURSOR_DESCRIPTION: 422 invalid_cursor).
Cursor = Annotated[str | None, Query(max_length=1024)]
UserId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The viewer's user id.")]


def _service():
    # Deferred so the entry module imports without pynamodb/botocore (cold start).
    from livecommerce.interaction import service  # deferred: cold start (pynamodb and botocore on first call)

    return service


def _bearer(api: Api) -> str:
    return bearer_token(api.app.current_event.headers) or ""


SNAPSHOT_ANSWERS = {200: {"description": "The room-entry snapshot. `Cache-Control: public, max-age=1, "
                                          "stale-while-revalidate=2`: the edge serves it to every viewer.",
                           "content": {"application/json": {"model": RoomSnapshot}}}}


FEED_ANSWERS = {200: {"description": "The room's danmaku pages after `seq` (poll mode). `Cache-Control: public, "
                                      "max-age=1`: the edge keys it on `seq` alone.",
                       "content": {"application/json": {"model": RoomFeed}}}}
Seq = Annotated[int, Query(ge=0, le=10**12, description="The last page seq the client has (0: none yet).")]


def build_router(api: Api) -> Router:
    router = Router()

    @router.get("/v1/rooms/<room_id>/feed", tags=["edge"], responses=FEED_ANSWERS,
                summary="A big room's crowd danmaku as numbered pages, polled once a second (cached at the edge)")
    def feed(room_id: RoomId, seq: Seq = 0):  # noqa: ANN202 (a Response: its own Cache-Control)
        from livecommerce.interaction import snapshot as edge  # deferred: cold start (pynamodb on first call)

        return Response(status_code=200, content_type="application/json",
                        body=_service().room_feed(room_id, seq).model_dump_json(),
                        headers={"Cache-Control": edge.FEED_CACHE_CONTROL})

    @router.get("/v1/rooms/<room_id>/snapshot", tags=["edge"], responses=SNAPSHOT_ANSWERS,
                summary="What a viewer loads on entering a live room, the same for everyone (cached at the edge 1 s)")
    def snapshot(room_id: RoomId):  # noqa: ANN202 (a Response: its own Cache-Control)
        from livecommerce.interaction import snapshot as edge  # deferred: cold start (pynamodb on first call)

        return Response(status_code=200, content_type="application/json",
                        body=edge.room_snapshot(room_id).model_dump_json(),
                        headers={"Cache-Control": edge.CACHE_CONTROL})

    @router.get("/v1/rooms/<room_id>/realtime", tags=["realtime"], security=BEARER,
                summary="MQTT-over-WSS endpoint, client id, credentials and topics of the room channel")
    def realtime(room_id: RoomId) -> Realtime:
        return _service().realtime(api.caller(), room_id, _bearer(api))

    @router.post("/v1/rooms/<room_id>/danmaku", tags=["realtime"], security=BEARER,
                 summary="Send a danmaku (moderated before anyone sees it)")
    def danmaku(room_id: RoomId, body: DanmakuRequest) -> tuple[Danmaku, int]:
        return _service().send_danmaku(api.caller(), room_id, body), 201

    @router.post("/v1/rooms/<room_id>/likes", tags=["realtime"], security=BEARER,
                 summary="Add likes batched by the client")
    def likes(room_id: RoomId, body: LikesRequest) -> tuple[LikesAccepted, int]:
        return _service().add_likes(api.caller(), room_id, body), 202

    @router.get("/v1/rooms/<room_id>/danmaku-settings", tags=["realtime"], security=BEARER,
                summary="The room's quick phrases and blocked words (host or a moderating assistant)")
    def get_settings(room_id: RoomId) -> DanmakuSettings:
        return _service().get_danmaku_settings(api.caller(), room_id)

    @router.put("/v1/rooms/<room_id>/danmaku-settings", tags=["realtime"], security=BEARER,
                summary="Set the room's quick phrases and blocked words (host or a moderating assistant)")
    def put_settings(room_id: RoomId, body: DanmakuSettingsRequest) -> DanmakuSettings:
        return _service().put_danmaku_settings(api.caller(), room_id, body)

    @router.get("/v1/rooms/<room_id>/moderation", tags=["realtime"], security=BEARER,
                summary="The room's muted (until when) and banned viewers, paged (host or a moderating assistant)")
    def moderation_list(room_id: RoomId, limit: Limit = 20, cursor: Cursor = None) -> ModerationPage:
        return _service().list_moderation(api.caller(), room_id, limit=limit, cursor=cursor)

    @router.put("/v1/rooms/<room_id>/mutes/<user_id>", tags=["realtime"], security=BEARER,
                summary="Mute a viewer in the room for a while (host or a moderating assistant)")
    def mute(room_id: RoomId, user_id: UserId, body: MuteRequest) -> Moderation:
        return _service().mute(api.caller(), room_id, user_id, body.duration_seconds)

    @router.delete("/v1/rooms/<room_id>/mutes/<user_id>", tags=["realtime"], security=BEARER,
                   summary="Lift a mute (host or a moderating assistant)")
    def unmute(room_id: RoomId, user_id: UserId) -> Moderation:
        return _service().unmute(api.caller(), room_id, user_id)

    @router.put("/v1/rooms/<room_id>/bans/<user_id>", tags=["realtime"], security=BEARER,
                summary="Ban a viewer from the room (host or a moderating assistant)")
    def ban(room_id: RoomId, user_id: UserId, body: BanRequest) -> Moderation:
        return _service().ban(api.caller(), room_id, user_id, body.reason)

    @router.delete("/v1/rooms/<room_id>/bans/<user_id>", tags=["realtime"], security=BEARER,
                   summary="Lift a ban (host or a moderating assistant)")
    def unban(room_id: RoomId, user_id: UserId) -> Moderation:
        return _service().unban(api.caller(), room_id, user_id)

    return router

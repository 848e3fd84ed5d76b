"""HTTP routes of notifications: the viewer's notice settings (unsubscribe) and consents, the host's
post-live notice choices, preview audience and the room's notice runs."""
from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from livecommerce.notifications.models import (ConsentGrants, ConsentGrantsRequest, NoticeRuns, NotificationSettings,
                                               NotificationSettingsRequest, PreviewAudience, PreviewAudienceRequest,
                                               RoomNoticeSettings, RoomNoticeSettingsRequest)
from livecommerce.shared.api import BEARER, Api


def _service():
    from livecommerce.notifications import service  # deferred: cold start (pynamodb and botocore on first call)

    return service


def _notices():
    from livecommerce.notifications import notices  # deferred: cold start (pynamodb and botocore on first call)

    return notices


def build_router(api: Api) -> Router:
    router = Router()

    @router.get("/v1/me/notification-settings", tags=["notifications"], security=BEARER,
                summary="Your notice settings: which channels we may use")
    def get_settings() -> NotificationSettings:
        return _service().get_settings_of(api.caller().user_id)

    @router.put("/v1/me/notification-settings", tags=["notifications"], security=BEARER,
                summary="Change your notice settings; false unsubscribes from that channel")
    def put_settings(body: NotificationSettingsRequest) -> NotificationSettings:
        return _service().put_settings_of(api.caller().user_id, body)

    @router.get("/v1/me/notice-consents", tags=["notifications"], security=BEARER,
                summary="Your one-time subscribe-message consents left, per notice kind")
    def get_consents() -> ConsentGrants:
        return _notices().consent_grants_of(api.caller().user_id)

    @router.post("/v1/me/notice-consents", tags=["notifications"], security=BEARER,
                 summary="Report what wx.requestSubscribeMessage answered: one consent per accepted kind")
    def post_consents(body: ConsentGrantsRequest) -> ConsentGrants:
        return _notices().add_consent_grants(api.caller().user_id, body)

    @router.delete("/v1/me/notice-consents/<kind>", tags=["notifications"], security=BEARER,
                   summary="Withdraw your consents for a notice kind (404 unknown_notice_kind)")
    def delete_consent(kind: str) -> ConsentGrants:
        return _notices().revoke_consent(api.caller().user_id, kind)

    @router.get("/v1/rooms/<room_id>/notice-settings", tags=["notifications"], security=BEARER,
                summary="The room's post-live notice choices (host)")
    def get_room_settings(room_id: str) -> RoomNoticeSettings:
        return _notices().room_settings(api.require("host"), room_id)

    @router.put("/v1/rooms/<room_id>/notice-settings", tags=["notifications"], security=BEARER,
                summary="Choose the coupon template non-buyers get with the replay link (host; "
                        "404 template_not_found, 409 notices_sent)")
    def put_room_settings(room_id: str, body: RoomNoticeSettingsRequest) -> RoomNoticeSettings:
        return _notices().put_room_settings(api.require("host"), room_id, body)

    @router.get("/v1/rooms/<room_id>/notices", tags=["notifications"], security=BEARER,
                summary="The room's notice runs per kind: audience, sent, skipped for consent, other skips, failed")
    def get_runs(room_id: str) -> NoticeRuns:
        return _notices().runs_of(api.require("host"), room_id)

    @router.get("/v1/me/preview-audience", tags=["notifications"], security=BEARER,
                summary="Which followers get your new-room previews (host)")
    def get_preview() -> PreviewAudience:
        return _notices().preview_audience_of(api.require("host"))

    @router.put("/v1/me/preview-audience", tags=["notifications"], security=BEARER,
                summary="Choose your new-room preview audience by viewer tags (host; 422 unknown_tag)")
    def put_preview(body: PreviewAudienceRequest) -> PreviewAudience:
        return _notices().put_preview_audience(api.require("host"), body)

    return router

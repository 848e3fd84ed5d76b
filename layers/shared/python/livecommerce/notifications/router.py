"""HTTP routes of notifications: the viewer's notice settings (unsubscribe)."""
from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from livecommerce.notifications.models import NotificationSettings, NotificationSettingsRequest
from livecommerce.shared.api import BEARER, Api


def _service():
    from livecommerce.notifications import service  # deferred: cold start (pynamodb and botocore on first call)

    return service


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

    return router

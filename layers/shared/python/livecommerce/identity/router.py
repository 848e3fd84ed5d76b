"""Identity routes: thin, they validate, call the service and shape the reply."""
from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from livecommerce.identity.models import (AssistantGrant, AssistantList, AssistantRemoved, AssistantRequest,
                                          CreateHostRequest, FollowState, Host, LoginRequest, LoginResponse, Me)
from livecommerce.shared.api import BEARER, Api



def _service():
    # Deferred so the entry module imports without pynamodb/botocore (cold start);
    # the first request pays it once.
    from livecommerce.identity import service  # deferred: pynamodb/botocore (cold start); the first request pays

    return service


HostId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
UserId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The assistant's user id.")]


def build_router(api: Api) -> Router:
    router = Router()

    @router.post("/v1/auth/login", tags=["identity"], summary="Log in with a mini-program code")
    def login(body: LoginRequest) -> LoginResponse:
        return _service().login(body.provider, body.code)

    @router.get("/v1/me", tags=["identity"], security=BEARER, summary="The caller with roles")
    def me() -> Me:
        return _service().me(api.caller())

    @router.post("/v1/hosts", tags=["identity"], security=BEARER, summary="Make a user a host (operators)")
    def create_host(body: CreateHostRequest) -> tuple[Host, int]:
        caller = api.require("operator")
        return _service().create_host(caller, user_id=body.user_id, display_name=body.display_name,
                                   intro=body.intro, avatar=body.avatar), 201

    @router.get("/v1/hosts/<host_id>", tags=["identity"], summary="Host profile with follower count")
    def get_host(host_id: HostId) -> Host:
        return _service().get_host(host_id)

    @router.put("/v1/hosts/<host_id>/follow", tags=["identity"], security=BEARER, summary="Follow a host")
    def follow(host_id: HostId) -> FollowState:
        return _service().follow(api.caller(), host_id)

    @router.delete("/v1/hosts/<host_id>/follow", tags=["identity"], security=BEARER, summary="Unfollow a host")
    def unfollow(host_id: HostId) -> FollowState:
        return _service().unfollow(api.caller(), host_id)

    @router.put("/v1/hosts/<host_id>/assistants/<user_id>", tags=["identity"], security=BEARER,
                summary="Name an assistant for every room of the host (the host or an operator)")
    def put_assistant(host_id: HostId, user_id: UserId, body: AssistantRequest) -> AssistantGrant:
        return _service().put_host_assistant(api.require("host"), host_id, user_id, body.capabilities)

    @router.delete("/v1/hosts/<host_id>/assistants/<user_id>", tags=["identity"], security=BEARER,
                   summary="Remove an assistant of every room of the host")
    def delete_assistant(host_id: HostId, user_id: UserId) -> AssistantRemoved:
        return _service().delete_host_assistant(api.require("host"), host_id, user_id)

    @router.get("/v1/hosts/<host_id>/assistants", tags=["identity"], security=BEARER,
                summary="The host's assistants (per room and for all rooms)")
    def list_assistants(host_id: HostId) -> AssistantList:
        return _service().list_host_assistants(api.require("host"), host_id)

    return router

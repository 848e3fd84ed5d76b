"""The domain events identity emits: one model per type in spec.py `emits`.

Fields are what identity/service.py sends. They feed analytics today;
consumers parse a detail with `Model.parse(detail)`.
"""
from __future__ import annotations

from livecommerce.shared.events import DomainEvent


class UserRegistered(DomainEvent):
    user_id: str
    provider: str                      # wechat, alipay or dev


class UserLoggedIn(DomainEvent):
    user_id: str
    provider: str


class HostCreated(DomainEvent):
    host_id: str
    created_by: str                    # the operator who made the user a host


class HostFollowed(DomainEvent):
    host_id: str
    viewer_id: str


class HostUnfollowed(DomainEvent):
    host_id: str
    viewer_id: str


class AssistantGranted(DomainEvent):
    """A host named (or re-named with other capabilities) an assistant for a room or all their rooms."""
    host_id: str
    user_id: str
    room_id: str | None                # None: every room of the host
    capabilities: list[str]
    granted_by: str


class AssistantRevoked(DomainEvent):
    host_id: str
    user_id: str
    room_id: str | None
    revoked_by: str


EVENTS = (UserRegistered, UserLoggedIn, HostCreated, HostFollowed, HostUnfollowed, AssistantGranted,
          AssistantRevoked)

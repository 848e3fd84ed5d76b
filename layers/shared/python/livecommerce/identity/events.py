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


EVENTS = (UserRegistered, UserLoggedIn, HostCreated, HostFollowed, HostUnfollowed)

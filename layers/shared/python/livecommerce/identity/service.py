"""Identity rules: login, roles, hosts, follows. No HTTP here."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from livecommerce.identity import repository
from livecommerce.identity.models import FollowState, Host, LoginResponse, Me, User
from livecommerce.shared import aws, events, problems, tokens
from livecommerce.shared.api import Caller, logger
from livecommerce.shared.clock import iso
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.settings import get_settings
from livecommerce.shared.ttl_cache import TtlCache

DEV_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# Seeded roles for the local stage's dev logins (the README lists these users).
DEV_ROLES = {"operator-1": ["viewer", "operator"], "host-1": ["viewer", "host"], "host-2": ["viewer", "host"]}
PROVIDERS_CACHE_SECONDS = 300

_providers: TtlCache[None, object] = TtlCache(PROVIDERS_CACHE_SECONDS)


def _load_provider_credentials():
    from livecommerce.identity.providers import ProviderCredentials

    raw = aws.client("secretsmanager").get_secret_value(
        SecretId=get_settings().providers_secret_id)["SecretString"]
    return ProviderCredentials.from_json(raw)


def _provider_credentials():
    return _providers.get(None, _load_provider_credentials)


def clear_caches() -> None:
    _providers.clear()


def _user_view(item) -> User:
    return User(id=item.user_id, roles=sorted(item.roles), display_name=item.display_name,
                avatar=item.avatar, provider=item.provider, created_at=item.created_at)


def _publish(detail_type: str, detail: dict) -> None:
    # Identity events feed analytics only; a bus hiccup must not fail a login.
    try:
        events.publish(detail_type, detail)
    except Exception:  # noqa: BLE001 - logged and counted, never swallowed silently
        logger.exception("domain event not published", extra={"detail_type": detail_type})


def login(provider: str, code: str) -> LoginResponse:
    settings = get_settings()
    new_user = False
    if provider == "dev":
        if not settings.is_local:
            raise problems.BadRequest("The dev provider exists only on the local stage.",
                                      code="provider_disabled")
        if not DEV_USER_ID.match(code):
            raise problems.ValidationFailed("code: a dev login code is a user id (letters, digits, - and _).",
                                            errors=[{"field": "body.code", "message": "not a user id",
                                                     "type": "pattern"}])
        existing = repository.get_user(code)
        user = existing or repository.ensure_dev_user(code, DEV_ROLES.get(code, ["viewer"]))
        new_user = existing is None
    else:
        user, new_user = _provider_login(provider, code)
    token, expires = tokens.issue(user.user_id, user.roles)
    if new_user:
        _publish("UserRegistered", {"user_id": user.user_id, "provider": provider})
    _publish("UserLoggedIn", {"user_id": user.user_id, "provider": provider})
    return LoginResponse(token=token, expires_at=iso(datetime.fromtimestamp(expires, timezone.utc)),
                         user=_user_view(user), new_user=new_user)


def _provider_login(provider: str, code: str):
    from livecommerce.identity.providers import LoginRejected, exchange_code

    settings = get_settings()
    try:
        identity = exchange_code(provider, code, credentials=_provider_credentials(),
                                 wechat_api_base=settings.wechat_api_base,
                                 alipay_gateway=settings.alipay_gateway)
    except LoginRejected as exc:
        logger.info("provider rejected login", extra={"provider": provider,
                                                      "provider_code": exc.provider_code,
                                                      "retryable": exc.retryable})
        if getattr(exc, "misconfigured", False):
            # Our app id, secret or keys are wrong: not the user's fault, and an alarm for us.
            logger.error("login provider misconfigured", extra={"provider": provider,
                                                                "provider_code": exc.provider_code})
            raise problems.Problem(f"{provider} login is not available right now.",
                                   code="provider_misconfigured", status=502, title="Login unavailable",
                                   provider=provider) from exc
        if exc.retryable:
            raise problems.UpstreamUnavailable(
                f"{provider} could not check the code right now; retry.", code="provider_unavailable",
                headers={"Retry-After": "2"}, provider=provider, provider_code=exc.provider_code) from exc
        raise problems.Unauthorized(
            f"{provider} rejected the login code: {exc.message}", code="login_code_rejected",
            provider=provider, provider_code=exc.provider_code) from exc

    link = repository.get_link(provider, identity.subject)
    if link is not None:
        user = repository.get_user(link.user_id)
        if user is None:  # the link is written with the user in one transaction
            raise problems.Conflict("The account is being created; retry.", code="concurrent_update",
                                    retryable=True)
        return user, False
    user_id = new_ulid()
    if repository.create_user_with_link(user_id=user_id, provider=provider, subject=identity.subject,
                                        union_id=identity.union_id, roles=["viewer"]):
        user = repository.get_user(user_id)
        return user, True
    # Lost a race with a concurrent first login of the same person: use theirs.
    link = repository.get_link(provider, identity.subject)
    user = repository.get_user(link.user_id) if link else None
    if user is None:
        raise problems.Conflict("The account is being created; retry.", code="concurrent_update",
                                retryable=True)
    return user, False


def me(caller: Caller) -> Me:
    user = repository.get_user(caller.user_id)
    if user is None:
        raise problems.NotFound("The account no longer exists.", code="user_not_found")
    return Me(**_user_view(user).model_dump(), following_count=repository.following_count(caller.user_id))


def _host_view(item) -> Host:
    return Host(id=item.host_id, display_name=item.display_name, intro=item.intro, avatar=item.avatar,
                follower_count=int(item.follower_count or 0), created_at=item.created_at)


def create_host(caller: Caller, *, user_id: str, display_name: str, intro: str | None,
                avatar: str | None) -> Host:
    if repository.get_user(user_id) is None:
        raise problems.NotFound("No user with that id; they must log in once first.", code="user_not_found")
    host = repository.create_host(host_id=user_id, display_name=display_name, intro=intro, avatar=avatar,
                                  created_by=caller.user_id)
    if host is None:
        raise problems.Conflict("That user is already a host.", code="host_exists")
    _publish("HostCreated", {"host_id": user_id, "created_by": caller.user_id})
    return _host_view(host)


def get_host(host_id: str) -> Host:
    host = repository.get_host(host_id)
    if host is None:
        raise problems.NotFound("No such host.", code="host_not_found")
    return _host_view(host)


def follow(caller: Caller, host_id: str) -> FollowState:
    if host_id == caller.user_id:
        raise problems.BadRequest("Hosts cannot follow themselves.", code="self_follow")
    changed = repository.follow(host_id, caller.user_id)
    if changed:
        _publish("HostFollowed", {"host_id": host_id, "viewer_id": caller.user_id})
    return FollowState(host_id=host_id, following=True, changed=changed,
                       follower_count=get_host(host_id).follower_count)


def unfollow(caller: Caller, host_id: str) -> FollowState:
    host = get_host(host_id)  # 404 for an unknown host
    changed = repository.unfollow(host_id, caller.user_id)
    if changed:
        _publish("HostUnfollowed", {"host_id": host_id, "viewer_id": caller.user_id})
        host = get_host(host_id)
    return FollowState(host_id=host_id, following=False, changed=changed,
                       follower_count=host.follower_count)

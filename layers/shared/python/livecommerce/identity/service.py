"""Identity rules: login, roles, hosts, follows. No HTTP here."""
from __future__ import annotations

from datetime import datetime, timezone

from livecommerce.identity import repository, rules
from livecommerce.identity.events import AssistantGranted, AssistantRevoked, HostCreated, HostFollowed, HostUnfollowed, UserLoggedIn, UserRegistered
from livecommerce.identity.models import AssistantGrant, AssistantList, AssistantRemoved, FollowState, Host, LoginResponse, Me, User
from livecommerce.identity.providers import LoginRejected, ProviderCredentials, exchange_code
from livecommerce.shared import aws, problems, tokens
from livecommerce.shared.api import Caller, logger
from livecommerce.shared.clock import iso
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.settings import get_settings
from livecommerce.shared.ttl_cache import TtlCache

DEV_USER_ID = rules.DEV_USER_ID
DEV_ROLES = rules.DEV_ROLES
PROVIDERS_CACHE_SECONDS = 300

_providers: TtlCache[None, object] = TtlCache(PROVIDERS_CACHE_SECONDS)


def _load_provider_credentials():
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


def find_user(user_id: str) -> User | None:
    item = repository.get_user(user_id)
    return _user_view(item) if item is not None else None


def user_exists(user_id: str) -> bool:
    # A strongly consistent read: a token is used right after the login that created its user.
    return repository.get_user(user_id, consistent=True) is not None


def payer_subject(user_id: str, provider: str) -> str | None:
    """The user's subject at their login provider (WeChat openid, Alipay user id), stored on the user
    at login; None for another provider or a user without one (dev users)."""
    item = repository.get_user(user_id)
    if item is None or item.provider != provider:
        return None
    subject = getattr(item, "provider_subject", None)
    return str(subject) if subject else None


def _flush(pk: str) -> None:
    # Identity events feed analytics only; the change is committed with its events in the outbox,
    # so a bus hiccup never fails a login (the flush logs it; the next flush or the sweeper publishes).
    repository.flush_outbox(pk)


def _require_local_stage() -> None:
    # The stage is read from STAGE, which CDK sets to the deployed stage's name on every
    # function and which is never "local" there (cdk/config.py refuses it): dev users
    # cannot exist on AWS.
    if not get_settings().is_local:
        raise problems.BadRequest("The dev provider exists only on the local stage.",
                                  code="provider_disabled")


def _dev_user(user_id: str):
    """(user, created): the dev user, created on first use with its DEV_ROLES (and UserRegistered
    in the same write)."""
    _require_local_stage()
    existing = repository.get_user(user_id)
    if existing is not None:
        return existing, False
    registered = UserRegistered(user_id=user_id, provider="dev")
    user = repository.ensure_dev_user(user_id, rules.dev_roles(user_id), [registered])
    _flush(repository.user_pk(user_id))
    return user, True


def register_dev_user(user_id: str) -> bool:
    """Local stage only (the seed): the dev user a first dev login would create, with the
    same roles and UserRegistered event, without a login. True when it was created."""
    _, created = _dev_user(user_id)
    return created


def login(provider: str, code: str) -> LoginResponse:
    if provider == "dev":
        _require_local_stage()
        if not rules.is_dev_user_id(code):
            raise problems.ValidationFailed("code: a dev login code is a user id (letters, digits, - and _).",
                                            errors=[{"field": "body.code", "message": "not a user id",
                                                     "type": "pattern"}])
        user, new_user = _dev_user(code)
    else:
        user, new_user = _provider_login(provider, code)
    token, expires = tokens.issue(user.user_id, user.roles)
    repository.write_events(repository.user_pk(user.user_id),
                            [UserLoggedIn(user_id=user.user_id, provider=provider)])
    _flush(repository.user_pk(user.user_id))
    return LoginResponse(token=token, expires_at=iso(datetime.fromtimestamp(expires, timezone.utc)),
                         user=_user_view(user), new_user=new_user)


def _provider_login(provider: str, code: str):
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
        if not user.provider_subject and user.provider == provider:
            # A user created before the subject was kept: keep it now (messages need it).
            repository.keep_provider_subject(user.user_id, identity.subject)
            user.provider_subject = identity.subject
        return user, False
    user_id = new_ulid()
    if repository.create_user_with_link(user_id=user_id, provider=provider, subject=identity.subject,
                                        union_id=identity.union_id, roles=["viewer"],
                                        events=[UserRegistered(user_id=user_id, provider=provider)]):
        _flush(repository.user_pk(user_id))
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
                                  created_by=caller.user_id,
                                  events=[HostCreated(host_id=user_id, created_by=caller.user_id)])
    if host is None:
        raise problems.Conflict("That user is already a host.", code="host_exists")
    _flush(repository.host_pk(user_id))
    return _host_view(host)


def find_host(host_id: str) -> Host | None:
    item = repository.get_host(host_id)
    return _host_view(item) if item is not None else None


def get_host(host_id: str) -> Host:
    host = repository.get_host(host_id)
    if host is None:
        raise problems.NotFound("No such host.", code="host_not_found")
    return _host_view(host)


def follow(caller: Caller, host_id: str) -> FollowState:
    rules.check_follow(caller.user_id, host_id)
    changed = repository.follow(host_id, caller.user_id, [HostFollowed(host_id=host_id, viewer_id=caller.user_id)])
    if changed:
        _flush(repository.host_pk(host_id))
    return FollowState(host_id=host_id, following=True, changed=changed,
                       follower_count=get_host(host_id).follower_count)


def unfollow(caller: Caller, host_id: str) -> FollowState:
    host = get_host(host_id)  # 404 for an unknown host
    changed = repository.unfollow(host_id, caller.user_id,
                                  [HostUnfollowed(host_id=host_id, viewer_id=caller.user_id)])
    if changed:
        _flush(repository.host_pk(host_id))
        host = get_host(host_id)
    return FollowState(host_id=host_id, following=False, changed=changed,
                       follower_count=host.follower_count)


# -- room assistants ---------------------------------------------------------------

def _grant_view(item) -> AssistantGrant:
    return AssistantGrant(user_id=item.user_id, host_id=item.host_id,
                          room_id=None if item.scope == rules.ALL_ROOMS else item.scope,
                          capabilities=list(item.capabilities), granted_by=item.granted_by,
                          granted_at=item.granted_at)


def _require_runs_host(caller: Caller, host_id: str) -> None:
    """The host themself or an operator names assistants for all the host's rooms."""
    if caller.user_id != host_id and not caller.is_operator:
        raise problems.Forbidden("Only this host (or an operator) names their assistants.", code="not_room_host")
    if repository.get_host(host_id) is None:
        raise problems.NotFound("No such host.", code="host_not_found")


def grant_assistant(*, host_id: str, user_id: str, room_id: str | None, capabilities: list[str] | None,
                    granted_by: str) -> AssistantGrant:
    """Name `user_id` assistant of `host_id` for one room (or all the host's rooms when room_id is None).
    The caller has checked that granted_by runs the room or is the host."""
    rules.check_assistant(host_id, user_id)
    if repository.get_user(user_id) is None:
        raise problems.NotFound("No such user.", code="user_not_found")
    chosen = sorted(set(capabilities or rules.ASSISTANT_CAPABILITIES))
    scope = rules.grant_scope(room_id)
    held = repository.grants_of(user_id)
    if len(held) >= rules.MAX_GRANTS_PER_ASSISTANT and not any(
            g.host_id == host_id and g.scope == scope for g in held):
        raise problems.Conflict("That user assists in too many rooms already.", code="too_many_grants")
    item = repository.put_assistant(user_id=user_id, host_id=host_id, scope=scope, capabilities=chosen,
                                    granted_by=granted_by,
                                    events=[AssistantGranted(host_id=host_id, user_id=user_id, room_id=room_id,
                                                             capabilities=chosen, granted_by=granted_by)])
    _flush(repository.host_pk(host_id))
    return _grant_view(item)


def revoke_assistant(*, host_id: str, user_id: str, room_id: str | None, revoked_by: str) -> AssistantRemoved:
    removed = repository.delete_assistant(
        user_id=user_id, host_id=host_id, scope=rules.grant_scope(room_id),
        events=[AssistantRevoked(host_id=host_id, user_id=user_id, room_id=room_id, revoked_by=revoked_by)])
    if removed:
        _flush(repository.host_pk(host_id))
    return AssistantRemoved(user_id=user_id, host_id=host_id, room_id=room_id, removed=removed)


def assistants(host_id: str, room_id: str | None = None) -> AssistantList:
    """A host's assistants: for one room (its own grants and the all-rooms ones), or all of them."""
    items = repository.assistants_of(host_id)
    if room_id is not None:
        items = [i for i in items if i.scope in (room_id, rules.ALL_ROOMS)]
    return AssistantList(items=[_grant_view(i) for i in items])


def assistant_grants(user_id: str) -> list[tuple[str, str, list[str]]]:
    """(host_id, scope, capabilities) of every grant the user holds."""
    return [(g.host_id, g.scope, list(g.capabilities)) for g in repository.grants_of(user_id)]


# Routes of identity's own: a host's assistants for all their rooms.

def put_host_assistant(caller: Caller, host_id: str, user_id: str, capabilities: list[str] | None) -> AssistantGrant:
    _require_runs_host(caller, host_id)
    return grant_assistant(host_id=host_id, user_id=user_id, room_id=None, capabilities=capabilities,
                           granted_by=caller.user_id)


def delete_host_assistant(caller: Caller, host_id: str, user_id: str) -> AssistantRemoved:
    _require_runs_host(caller, host_id)
    return revoke_assistant(host_id=host_id, user_id=user_id, room_id=None, revoked_by=caller.user_id)


def list_host_assistants(caller: Caller, host_id: str) -> AssistantList:
    _require_runs_host(caller, host_id)
    return assistants(host_id)

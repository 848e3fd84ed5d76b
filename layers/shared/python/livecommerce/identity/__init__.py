"""Identity: login through WeChat / Alipay (and dev locally), users, roles, hosts, follows.

The public face: what other contexts may call. They get identity's pydantic
views (`Host`, `User`) or plain values, never the identity table's items;
events are in `livecommerce.identity.events`. The functions import the
service inside so that importing this package stays cheap (no PynamoDB or
boto3: the manifest reads every context's spec, which runs this module first).
"""
from __future__ import annotations


from livecommerce.identity.models import AssistantGrant, AssistantList, AssistantRemoved, AssistantRequest, Host, User
from livecommerce.identity.rules import ASSISTANT_CAPABILITIES, grant_allows

__all__ = ["ASSISTANT_CAPABILITIES", "AssistantGrant", "AssistantList", "AssistantRemoved", "AssistantRequest", "Host", "User",
           "assistant_grants", "assistants", "find_host", "grant_allows", "grant_assistant", "revoke_assistant", "find_user", "nickname", "payer_subject", "register_dev_user",
           "sweep_outbox", "user_exists"]



def find_host(host_id: str) -> Host | None:
    """The host's profile, or None when the user has none."""
    from livecommerce.identity import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.find_host(host_id)


def find_user(user_id: str) -> User | None:
    """The user (id, roles, display name, avatar, login provider), or None."""
    from livecommerce.identity import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.find_user(user_id)


def user_exists(user_id: str) -> bool:
    """Whether the user may use a token we signed for them: they exist (identity has no
    disabled or banned state; when it gets one, this is where it is refused). The token
    authorizer asks this once per token and API Gateway cache period."""
    from livecommerce.identity import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.user_exists(user_id)


def nickname(user_id: str) -> str | None:
    """The name shown for a user (their display name), or None."""
    user = find_user(user_id)
    return user.display_name if user is not None else None


def payer_subject(user_id: str, provider: str) -> str | None:
    """The user's id at a payment provider (WeChat openid, Alipay user id) when identity knows it
    for a user who logged in with that provider; None otherwise (the caller sends it)."""
    from livecommerce.identity import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.payer_subject(user_id, provider)


def register_dev_user(user_id: str) -> bool:
    """Local stage only (the seed): create the dev user a first dev login would. True when created."""
    from livecommerce.identity import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.register_dev_user(user_id)


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    """Publish identity events a crash left in the identity outbox (the outbox sweeper)."""
    from livecommerce.identity import repository  # deferred: pynamodb (cheap face for callers that need little)

    return repository.sweep_outbox(older_than_seconds=older_than_seconds)


# -- room assistants (the rooms context checks them: livecommerce.rooms.require_room_staff) ----------

def assistant_grants(user_id: str) -> list[tuple[str, str, list[str]]]:
    """(host_id, scope, capabilities) of every assistant grant the user holds; scope is a room id or
    "*" (every room of that host). Read consistently: a revoked grant stops working at once."""
    from livecommerce.identity import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.assistant_grants(user_id)


def grant_assistant(*, host_id: str, user_id: str, room_id: str | None, capabilities: list[str] | None,
                    granted_by: str) -> AssistantGrant:
    """Name an assistant of a host's room (room_id None: every room of the host). The caller has
    checked that `granted_by` may (the rooms context: the room's host or an operator)."""
    from livecommerce.identity import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.grant_assistant(host_id=host_id, user_id=user_id, room_id=room_id,
                                   capabilities=capabilities, granted_by=granted_by)


def revoke_assistant(*, host_id: str, user_id: str, room_id: str | None, revoked_by: str) -> AssistantRemoved:
    from livecommerce.identity import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.revoke_assistant(host_id=host_id, user_id=user_id, room_id=room_id, revoked_by=revoked_by)


def assistants(host_id: str, room_id: str | None = None) -> AssistantList:
    """A host's assistants: those who may act in `room_id` (its grants and the all-rooms ones), or all."""
    from livecommerce.identity import service  # deferred: pynamodb (cheap face for callers that need little)

    return service.assistants(host_id, room_id)


def follows(host_id: str, viewer_id: str) -> bool:
    """Whether the viewer follows the host."""
    from livecommerce.identity import repository  # deferred: pynamodb (cheap face for callers that need little)

    return repository.is_following(host_id, viewer_id)

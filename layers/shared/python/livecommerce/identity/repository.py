"""Identity data access: every read and conditional write of the identity table."""
from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from livecommerce.identity.storage import FollowItem, HostItem, LoginLinkItem, UserItem, bind_all
from livecommerce.shared import dynamo, problems
from livecommerce.shared.clock import now_iso


def _connection() -> Connection:
    bind_all()
    return UserItem._get_connection().connection


def get_user(user_id: str) -> UserItem | None:
    bind_all()
    try:
        return UserItem.get(*UserItem.key(user_id))
    except DoesNotExist:
        return None


def get_link(provider: str, subject: str) -> LoginLinkItem | None:
    bind_all()
    try:
        return LoginLinkItem.get(*LoginLinkItem.key(provider, subject), consistent_read=True)
    except DoesNotExist:
        return None


def create_user_with_link(*, user_id: str, provider: str, subject: str, union_id: str | None,
                          roles: list[str]) -> bool:
    """Create a user and its provider link atomically.

    Returns False when another request linked this provider identity first
    (two first logins racing); the caller then reads the winner's link."""
    now = now_iso()
    user = UserItem(*UserItem.key(user_id), user_id=user_id, roles=roles, provider=provider,
                    created_at=now, updated_at=now)
    link = LoginLinkItem(*LoginLinkItem.key(provider, subject), user_id=user_id, union_id=union_id,
                         created_at=now)
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(link, condition=LoginLinkItem.pk.does_not_exist())
            tx.save(user, condition=UserItem.pk.does_not_exist())
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in dynamo.cancellation_reasons(exc):
            return False
        dynamo.raise_if_retryable(exc)
        raise
    return True


def ensure_dev_user(user_id: str, roles: list[str]) -> UserItem:
    """Local stage only: a dev login creates the user on first use."""
    bind_all()
    now = now_iso()
    user = UserItem(*UserItem.key(user_id), user_id=user_id, roles=roles, provider="dev",
                    created_at=now, updated_at=now)
    try:
        user.save(condition=UserItem.pk.does_not_exist())
    except PutError as exc:
        if dynamo.error_code(exc) != "ConditionalCheckFailedException":
            dynamo.raise_if_retryable(exc)
            raise
    found = get_user(user_id)
    assert found is not None
    return found


def add_role(user_id: str, role: str) -> None:
    bind_all()
    user = UserItem(*UserItem.key(user_id))
    try:
        user.update(actions=[UserItem.roles.set(UserItem.roles.append([role])),
                             UserItem.updated_at.set(now_iso())],
                    condition=UserItem.pk.exists() & ~UserItem.roles.contains(role))
    except UpdateError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return  # already has the role, or absent (checked by the caller)
        dynamo.raise_if_retryable(exc)
        raise


def create_host(*, host_id: str, display_name: str, intro: str | None, avatar: str | None,
                created_by: str) -> HostItem | None:
    """Create the host profile and grant the host role in one transaction.

    Returns None when the profile already exists."""
    now = now_iso()
    host = HostItem(*HostItem.key(host_id), host_id=host_id, display_name=display_name, intro=intro,
                    avatar=avatar, follower_count=0, created_by=created_by, created_at=now)
    user = UserItem(*UserItem.key(host_id))
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(host, condition=HostItem.pk.does_not_exist())
            tx.update(user, actions=[UserItem.roles.set(UserItem.roles.append(["host"])),
                                     UserItem.updated_at.set(now)],
                      condition=UserItem.pk.exists() & ~UserItem.roles.contains("host"))
    except TransactWriteError as exc:
        reasons = dynamo.cancellation_reasons(exc)
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return None
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            # The user already holds the host role (granted by hand): create the profile alone.
            try:
                host.save(condition=HostItem.pk.does_not_exist())
            except PutError as inner:
                if dynamo.error_code(inner) == "ConditionalCheckFailedException":
                    return None
                dynamo.raise_if_retryable(inner)
                raise
            return host
        dynamo.raise_if_retryable(exc)
        raise
    return host


def get_host(host_id: str) -> HostItem | None:
    bind_all()
    try:
        return HostItem.get(*HostItem.key(host_id))
    except DoesNotExist:
        return None


def follow(host_id: str, viewer_id: str) -> bool:
    """Add the follow edge and bump the count together. False if already following."""
    now = now_iso()
    edge = FollowItem(*FollowItem.key(host_id, viewer_id), gsi1pk=f"USER#{viewer_id}",
                      gsi1sk=f"FOLLOWS#{host_id}", host_id=host_id, viewer_id=viewer_id,
                      followed_at=now)
    host = HostItem(*HostItem.key(host_id))
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.save(edge, condition=FollowItem.pk.does_not_exist())
            tx.update(host, actions=[HostItem.follower_count.add(1)], condition=HostItem.pk.exists())
    except TransactWriteError as exc:
        reasons = dynamo.cancellation_reasons(exc)
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return False
        if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
            raise problems.NotFound("No such host.", code="host_not_found") from exc
        dynamo.raise_if_retryable(exc)
        raise
    return True


def unfollow(host_id: str, viewer_id: str) -> bool:
    """Remove the edge and decrement together. False if not following."""
    edge = FollowItem(*FollowItem.key(host_id, viewer_id))
    host = HostItem(*HostItem.key(host_id))
    try:
        with TransactWrite(connection=_connection()) as tx:
            tx.delete(edge, condition=FollowItem.pk.exists())
            tx.update(host, actions=[HostItem.follower_count.add(-1)],
                      condition=HostItem.pk.exists() & (HostItem.follower_count > 0))
    except TransactWriteError as exc:
        reasons = dynamo.cancellation_reasons(exc)
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return False
        dynamo.raise_if_retryable(exc)
        raise
    return True


def is_following(host_id: str, viewer_id: str) -> bool:
    bind_all()
    try:
        FollowItem.get(*FollowItem.key(host_id, viewer_id))
        return True
    except DoesNotExist:
        return False


def following_count(viewer_id: str) -> int:
    bind_all()
    return FollowItem.by_follower.count(f"USER#{viewer_id}")

"""Identity data access: every read and conditional write of the identity table.

Writes that cause domain events take them (typed events from
livecommerce.identity.events) and write them to the identity outbox in the same
transaction; the service flushes the outbox after the commit.
"""
from __future__ import annotations

from typing import Iterable

from pynamodb.exceptions import DoesNotExist, UpdateError

from livecommerce.identity.storage import (AssistantItem, FollowItem, HostItem, IdentityOutboxItem, LoginLinkItem, UserItem,
                                           bind_all)
from livecommerce.shared import dynamo, outbox, problems
from livecommerce.shared.clock import now_iso
from livecommerce.shared.tx import Tx, TxCancelled

OUTBOX = outbox.Outbox(IdentityOutboxItem, bind=bind_all)

Events = Iterable[outbox.Event]


def user_pk(user_id: str) -> str:
    return UserItem.key(user_id)[0]


def host_pk(host_id: str) -> str:
    return HostItem.key(host_id)[0]


def _with_events(tx: Tx, pk: str, events: Events) -> Tx:
    for item in OUTBOX.items(pk, events):
        tx.put("outbox", item)
    return tx


def write_events(pk: str, events: Events) -> None:
    """Events caused by something that changed no identity item (a login): the outbox alone."""
    bind_all()
    _with_events(Tx(), pk, events).commit()


flush_outbox = OUTBOX.flush


sweep_outbox = OUTBOX.sweep


def get_user(user_id: str, *, consistent: bool = False) -> UserItem | None:
    bind_all()
    try:
        return UserItem.get(*UserItem.key(user_id), consistent_read=consistent)
    except DoesNotExist:
        return None


def get_link(provider: str, subject: str) -> LoginLinkItem | None:
    bind_all()
    try:
        return LoginLinkItem.get(*LoginLinkItem.key(provider, subject), consistent_read=True)
    except DoesNotExist:
        return None


def create_user_with_link(*, user_id: str, provider: str, subject: str, union_id: str | None,
                          roles: list[str], events: Events = ()) -> bool:
    """Create a user and its provider link atomically (with the events it causes).

    Returns False when another request linked this provider identity first
    (two first logins racing); the caller then reads the winner's link."""
    bind_all()
    now = now_iso()
    user = UserItem(*UserItem.key(user_id), user_id=user_id, roles=roles, provider=provider,
                    provider_subject=subject, created_at=now, updated_at=now)
    link = LoginLinkItem(*LoginLinkItem.key(provider, subject), user_id=user_id, union_id=union_id,
                         created_at=now)
    tx = Tx().put("link", link, LoginLinkItem.pk.does_not_exist()) \
        .put("user", user, UserItem.pk.does_not_exist())
    try:
        _with_events(tx, user_pk(user_id), events).commit()
    except TxCancelled:
        return False
    return True


def keep_provider_subject(user_id: str, subject: str) -> bool:
    """Store the login subject on a user created before it was kept (once: a subject already
    stored is never overwritten). Returns whether it was written."""
    bind_all()
    user = UserItem(*UserItem.key(user_id))
    try:
        user.update(actions=[UserItem.provider_subject.set(subject)],
                    condition=UserItem.pk.exists() & UserItem.provider_subject.does_not_exist())
    except UpdateError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        dynamo.raise_if_retryable(exc)
        raise
    return True


def ensure_dev_user(user_id: str, roles: list[str], events: Events = ()) -> UserItem:
    """Local stage only: a dev login creates the user on first use (with the events that causes;
    nothing is written when the user exists)."""
    bind_all()
    now = now_iso()
    user = UserItem(*UserItem.key(user_id), user_id=user_id, roles=roles, provider="dev",
                    created_at=now, updated_at=now)
    try:
        _with_events(Tx().put("user", user, UserItem.pk.does_not_exist()), user_pk(user_id), events).commit()
    except TxCancelled as exc:
        if "user" not in exc:
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
                created_by: str, events: Events = ()) -> HostItem | None:
    """Create the host profile and grant the host role in one transaction (with its events).

    Returns None when the profile already exists."""
    bind_all()
    now = now_iso()
    host = HostItem(*HostItem.key(host_id), host_id=host_id, display_name=display_name, intro=intro,
                    avatar=avatar, follower_count=0, created_by=created_by, created_at=now)
    user = UserItem(*UserItem.key(host_id))
    events = list(events)
    profile = Tx().put("host", host, HostItem.pk.does_not_exist())
    try:
        _with_events(profile.update("role", user, [UserItem.roles.set(UserItem.roles.append(["host"])),
                                                   UserItem.updated_at.set(now)],
                                    UserItem.pk.exists() & ~UserItem.roles.contains("host")),
                     host_pk(host_id), events).commit()
    except TxCancelled as exc:
        if "host" in exc:
            return None
        # The user already holds the host role (granted by hand): create the profile alone.
        try:
            _with_events(Tx().put("host", host, HostItem.pk.does_not_exist()), host_pk(host_id), events).commit()
        except TxCancelled:
            return None
    return host


def get_host(host_id: str) -> HostItem | None:
    bind_all()
    try:
        return HostItem.get(*HostItem.key(host_id))
    except DoesNotExist:
        return None


def follow(host_id: str, viewer_id: str, events: Events = ()) -> bool:
    """Add the follow edge and bump the count together (with the events). False if already following."""
    bind_all()
    now = now_iso()
    edge = FollowItem(*FollowItem.key(host_id, viewer_id), gsi1pk=f"USER#{viewer_id}",
                      gsi1sk=f"FOLLOWS#{host_id}", host_id=host_id, viewer_id=viewer_id,
                      followed_at=now)
    host = HostItem(*HostItem.key(host_id))
    tx = Tx().put("edge", edge, FollowItem.pk.does_not_exist()) \
        .update("count", host, [HostItem.follower_count.add(1)], HostItem.pk.exists())
    try:
        _with_events(tx, host_pk(host_id), events).commit()
    except TxCancelled as exc:
        if "edge" in exc:
            return False
        raise problems.NotFound("No such host.", code="host_not_found") from exc
    return True


def unfollow(host_id: str, viewer_id: str, events: Events = ()) -> bool:
    """Remove the edge and decrement together (with the events). False if not following."""
    bind_all()
    edge = FollowItem(*FollowItem.key(host_id, viewer_id))
    host = HostItem(*HostItem.key(host_id))
    tx = Tx().delete("edge", edge, FollowItem.pk.exists()) \
        .update("count", host, [HostItem.follower_count.add(-1)],
                HostItem.pk.exists() & (HostItem.follower_count > 0))
    try:
        _with_events(tx, host_pk(host_id), events).commit()
    except TxCancelled as exc:
        if "edge" in exc:
            return False
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


# -- room assistants ---------------------------------------------------------------

def put_assistant(*, user_id: str, host_id: str, scope: str, capabilities: list[str], granted_by: str,
                  events: Events = ()) -> AssistantItem:
    """Write (or replace) a grant with the events it causes, in one transaction."""
    bind_all()
    gsi1pk, gsi1sk = AssistantItem.host_key(host_id, scope, user_id)
    item = AssistantItem(*AssistantItem.key(user_id, host_id, scope), gsi1pk=gsi1pk, gsi1sk=gsi1sk,
                         user_id=user_id, host_id=host_id, scope=scope, capabilities=capabilities,
                         granted_by=granted_by, granted_at=now_iso())
    _with_events(Tx().put("grant", item), host_pk(host_id), events).commit()
    return item


def delete_assistant(*, user_id: str, host_id: str, scope: str, events: Events = ()) -> bool:
    """Remove a grant (with its events). False when there was none."""
    bind_all()
    item = AssistantItem(*AssistantItem.key(user_id, host_id, scope))
    try:
        _with_events(Tx().delete("grant", item, AssistantItem.pk.exists()), host_pk(host_id), events).commit()
    except TxCancelled as exc:
        if "grant" in exc:
            return False
        raise
    return True


def grants_of(user_id: str) -> list[AssistantItem]:
    """Every grant an assistant holds (one query of their own partition; strongly consistent, so a
    revoked grant stops working at once)."""
    bind_all()
    pk = f"USER#{user_id}"
    return list(AssistantItem.query(pk, AssistantItem.sk.startswith("ASSISTS#"), consistent_read=True,
                                    limit=200))


def assistants_of(host_id: str, scope: str | None = None) -> list[AssistantItem]:
    """A host's grants (all, or those of one scope), from gsi1."""
    bind_all()
    condition = AssistantItem.gsi1sk.startswith(f"{scope}#") if scope is not None else None
    return list(AssistantItem.by_host.query(f"ASSISTANTS#{host_id}", condition, limit=500))

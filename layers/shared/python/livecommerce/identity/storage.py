"""PynamoDB items of the identity table (single-table layout).

  USER#<id>                 PROFILE             the user and their roles
  LOGIN#<provider>#<sub>    LINK                provider identity -> user id (unique)
  HOST#<id>                 PROFILE             host profile with follower count
  HOST#<host>               FOLLOWER#<viewer>   a follow; gsi1 inverts it (what a viewer follows)
  USER#<assistant>          ASSISTS#<host>#<scope>  a room assistant grant (scope: a room id or * for
                                                every room of the host); gsi1: ASSISTANTS#<host>
  USER#<id> or HOST#<id>    OUTBOX#<ulid>       a domain event written with the change that caused it

gsi1 partitions: USER#<viewer> (a viewer's follows, sort key FOLLOWS#<host>)
OUTBOX#pending (pending events, for the sweeper) and ASSISTANTS#<host> (a host's assistants, sort
key <scope>#<assistant>). Every follow partition
starts with USER#, so the outbox partition never holds a follow and
`following_count` (a count of USER#<viewer>) never counts an event.
"""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute

from livecommerce.identity.spec import IDENTITY
from livecommerce.shared import dynamo
from livecommerce.shared.outbox import OutboxItem
from livecommerce.shared.storage import KeyedItem as _Base, Gsi1Index as ByFollowerIndex


class UserItem(_Base):
    class Meta:
        table_name = "unbound"

    user_id = UnicodeAttribute()
    roles = ListAttribute(of=UnicodeAttribute, default=list)
    display_name = UnicodeAttribute(null=True)
    avatar = UnicodeAttribute(null=True)
    provider = UnicodeAttribute()
    # Who the login provider says the user is (WeChat openid, Alipay user id): the address of
    # subscribe and template messages. Set when the user is created from a login, or on the next
    # login of a user created before it was kept.
    provider_subject = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", "PROFILE"


class LoginLinkItem(_Base):
    class Meta:
        table_name = "unbound"

    user_id = UnicodeAttribute()
    union_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()

    @staticmethod
    def key(provider: str, subject: str) -> tuple[str, str]:
        return f"LOGIN#{provider}#{subject}", "LINK"


class HostItem(_Base):
    class Meta:
        table_name = "unbound"

    host_id = UnicodeAttribute()
    display_name = UnicodeAttribute()
    intro = UnicodeAttribute(null=True)
    avatar = UnicodeAttribute(null=True)
    follower_count = NumberAttribute(default=0)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()

    @staticmethod
    def key(host_id: str) -> tuple[str, str]:
        return f"HOST#{host_id}", "PROFILE"


class FollowItem(_Base):
    class Meta:
        table_name = "unbound"

    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_follower = ByFollowerIndex()
    host_id = UnicodeAttribute()
    viewer_id = UnicodeAttribute()
    followed_at = UnicodeAttribute()

    @staticmethod
    def key(host_id: str, viewer_id: str) -> tuple[str, str]:
        return f"HOST#{host_id}", f"FOLLOWER#{viewer_id}"


class AssistantItem(_Base):
    """A host's grant to an assistant, for one room or (scope "*") for every room of the host."""

    class Meta:
        table_name = "unbound"

    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_host = ByFollowerIndex()
    user_id = UnicodeAttribute()
    host_id = UnicodeAttribute()
    scope = UnicodeAttribute()
    capabilities = ListAttribute(of=UnicodeAttribute, default=list)
    granted_by = UnicodeAttribute()
    granted_at = UnicodeAttribute()

    @staticmethod
    def key(user_id: str, host_id: str, scope: str) -> tuple[str, str]:
        return f"USER#{user_id}", f"ASSISTS#{host_id}#{scope}"

    @staticmethod
    def host_key(host_id: str, scope: str, user_id: str) -> tuple[str, str]:
        return f"ASSISTANTS#{host_id}", f"{scope}#{user_id}"


class IdentityOutboxItem(OutboxItem):
    """The one outbox item (livecommerce.shared.outbox), bound to this table."""

    class Meta:
        table_name = "unbound"


MODELS = (UserItem, LoginLinkItem, HostItem, FollowItem, AssistantItem, IdentityOutboxItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, IDENTITY)

"""PynamoDB items of the marketing table.

  CTPL#<id>                 META          a coupon template (total, issued, per-user limit, validity)
  CDROP#<id>                META          a drop of a template into a room (left to claim); gsi1 until its
                                          CouponDropped event is out (scheduled drops)
  ROOMDROPS#<room>          CDROP#<id>    a drop of the room (the room's list of drops, newest first)
  CTPLUSER#<tpl>#<user>     COUNT         coupons of a template a viewer holds (per-user limit)
  USER#<user>               COUPON#<id>   a coupon in the viewer's coupon centre
  USER#<user>               POINTS        points balance (never negative)
  USER#<user>               PTS#<ulid>    a ledger entry
  USER#<user>               PTSREF#<ref>  an award already made for <ref> (awards are idempotent)
  USER#<user>               GIFTS#<pid>   units of a gift for points the viewer holds (per-user limit)
  SHARE#<code>              META          a share code: room and sharer
  SHARER#<room>#<user>      META          the viewer's code for the room (one per viewer and room)
  ARRIVAL#<room>#<invitee>  META          an invitee arrived through a code (one reward per invitee)
  ROOMSHARE#<room>          META          the room's share-reward drop
  <aggregate>               OUTBOX#<ulid> domain events (gsi1: pending, sharded)
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from livecommerce.marketing.spec import MARKETING
from livecommerce.shared import dynamo
from livecommerce.shared.outbox import OutboxItem
from livecommerce.shared.storage import KeyedItem as _Base, Gsi1Index as PendingIndex


class TemplateItem(_Base):
    class Meta:
        table_name = "unbound"

    template_id = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    amount = NumberAttribute()
    threshold = NumberAttribute(default=0)
    total = NumberAttribute()
    issued = NumberAttribute(default=0)
    per_user_limit = NumberAttribute(default=1)
    valid_from = UnicodeAttribute(null=True)
    valid_until = UnicodeAttribute(null=True)
    valid_days = NumberAttribute(null=True)
    room_id = UnicodeAttribute(null=True)
    points_cost = NumberAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()

    @staticmethod
    def key(template_id: str) -> tuple[str, str]:
        return f"CTPL#{template_id}", "META"


class DropItem(_Base):
    class Meta:
        table_name = "unbound"

    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    pending = PendingIndex()
    drop_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    room_id = UnicodeAttribute()
    purpose = UnicodeAttribute()
    terms = JSONAttribute()               # a copy of the template's terms, so a claim reads one item
    quantity = NumberAttribute()
    left = NumberAttribute()
    drops_at = UnicodeAttribute()
    drops_at_epoch = NumberAttribute()
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    exhausted_at = UnicodeAttribute(null=True)   # CouponDropExhausted is out (set once, with its outbox item)

    @staticmethod
    def key(drop_id: str) -> tuple[str, str]:
        return f"CDROP#{drop_id}", "META"


class RoomDropItem(_Base):
    """A drop in its room's list (written with the drop; the drop item holds what changes)."""

    class Meta:
        table_name = "unbound"

    drop_id = UnicodeAttribute()

    @staticmethod
    def key(room_id: str, drop_id: str) -> tuple[str, str]:
        return f"ROOMDROPS#{room_id}", f"CDROP#{drop_id}"


class ClaimCounterItem(_Base):
    class Meta:
        table_name = "unbound"

    count = NumberAttribute(default=0)

    @staticmethod
    def key(template_id: str, user_id: str) -> tuple[str, str]:
        return f"CTPLUSER#{template_id}#{user_id}", "COUNT"


class CouponItem(_Base):
    class Meta:
        table_name = "unbound"

    coupon_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    template_id = UnicodeAttribute()
    drop_id = UnicodeAttribute(null=True)
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    amount = NumberAttribute()
    threshold = NumberAttribute(default=0)
    room_id = UnicodeAttribute(null=True)
    valid_from = UnicodeAttribute()
    valid_until = UnicodeAttribute()
    state = UnicodeAttribute()             # available | locked | used
    order_id = UnicodeAttribute(null=True)
    source = UnicodeAttribute()
    claimed_at = UnicodeAttribute()
    used_at = UnicodeAttribute(null=True)

    @staticmethod
    def key(user_id: str, coupon_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", f"COUPON#{coupon_id}"


class PointsItem(_Base):
    class Meta:
        table_name = "unbound"

    balance = NumberAttribute(default=0)

    @staticmethod
    def key(user_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", "POINTS"


class LedgerItem(_Base):
    class Meta:
        table_name = "unbound"

    entry_id = UnicodeAttribute()
    delta = NumberAttribute()
    reason = UnicodeAttribute()
    ref = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()

    @staticmethod
    def key(user_id: str, entry_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", f"PTS#{entry_id}"


class PointsRefItem(_Base):
    class Meta:
        table_name = "unbound"

    entry_id = UnicodeAttribute()

    @staticmethod
    def key(user_id: str, ref: str) -> tuple[str, str]:
        return f"USER#{user_id}", f"PTSREF#{ref}"


class GiftCountItem(_Base):
    """Units of one catalog gift a viewer redeemed and did not cancel (marketing.gifts: the per-user limit)."""

    class Meta:
        table_name = "unbound"

    count = NumberAttribute(default=0)

    @staticmethod
    def key(user_id: str, product_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", f"GIFTS#{product_id}"


class ShareItem(_Base):
    class Meta:
        table_name = "unbound"

    code = UnicodeAttribute()
    room_id = UnicodeAttribute()
    sharer_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    rewards = NumberAttribute(default=0)

    @staticmethod
    def key(code: str) -> tuple[str, str]:
        return f"SHARE#{code}", "META"


class SharerItem(_Base):
    class Meta:
        table_name = "unbound"

    code = UnicodeAttribute()

    @staticmethod
    def key(room_id: str, user_id: str) -> tuple[str, str]:
        return f"SHARER#{room_id}#{user_id}", "META"


class ArrivalItem(_Base):
    class Meta:
        table_name = "unbound"

    code = UnicodeAttribute()
    sharer_id = UnicodeAttribute()
    rewarded = BooleanAttribute(default=False)
    coupon_id = UnicodeAttribute(null=True)
    arrived_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str, invitee_id: str) -> tuple[str, str]:
        return f"ARRIVAL#{room_id}#{invitee_id}", "META"


class RoomShareRewardItem(_Base):
    class Meta:
        table_name = "unbound"

    drop_id = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str) -> tuple[str, str]:
        return f"ROOMSHARE#{room_id}", "META"


class MarketingOutboxItem(OutboxItem):
    """The one outbox item (livecommerce.shared.outbox), bound to this table."""

    class Meta:
        table_name = "unbound"


MODELS = (TemplateItem, DropItem, RoomDropItem, ClaimCounterItem, CouponItem, PointsItem, LedgerItem, PointsRefItem, ShareItem,
          SharerItem, ArrivalItem, RoomShareRewardItem, MarketingOutboxItem, GiftCountItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, MARKETING)

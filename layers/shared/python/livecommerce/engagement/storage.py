"""PynamoDB items of the engagement table (the key patterns are in spec.py)."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from livecommerce.engagement.spec import ENGAGEMENT
from livecommerce.shared import dynamo
from livecommerce.shared.outbox import OutboxItem
from livecommerce.shared.storage import Gsi1Index as DueIndex, KeyedItem as _Base


class LotteryItem(_Base):
    class Meta:
        table_name = "unbound"

    gsi1pk = UnicodeAttribute(null=True)      # LOTDUE while a step is ahead
    gsi1sk = UnicodeAttribute(null=True)      # <epoch:012d>#<id>
    due = DueIndex()
    lottery_id = UnicodeAttribute()
    room_id = UnicodeAttribute()
    host_id = UnicodeAttribute()
    created_by = UnicodeAttribute()
    kind = UnicodeAttribute()                 # keyword | follow | share | buyers
    keyword = UnicodeAttribute(null=True)
    prize = JSONAttribute()                   # {"kind", "name", "template_id"|"points"|"product_id"}
    winners_count = NumberAttribute()
    followers_only = BooleanAttribute(default=False)
    exclude_moderated = BooleanAttribute(default=True)
    exclude_new_accounts = BooleanAttribute(default=False)
    on_unclaimed = UnicodeAttribute(default="forfeit")   # forfeit | redraw
    opens_at = UnicodeAttribute()
    closes_at = UnicodeAttribute()
    state = UnicodeAttribute()                # open | closed | drawn
    countdown_sent = BooleanAttribute(default=False)
    salt = UnicodeAttribute()
    commitment = UnicodeAttribute()
    secret_ciphertext = UnicodeAttribute()    # KMS, until the draw reveals it
    secret = UnicodeAttribute(null=True)      # revealed at the draw
    entrants = NumberAttribute(null=True)     # frozen at the close
    entrants_hash = UnicodeAttribute(null=True)
    entrant_list = JSONAttribute(null=True)   # the frozen list's object: {"key", "version", "bytes"} (repository)
    beacon = JSONAttribute(null=True)         # {"chain": {...}, "round", "draws_at", "beacon": {...}}
    positions = NumberAttribute(null=True)    # positions of the shuffle drawn (winners + redraws)
    created_at = UnicodeAttribute()
    closed_at = UnicodeAttribute(null=True)
    drawn_at = UnicodeAttribute(null=True)

    @staticmethod
    def key(lottery_id: str) -> tuple[str, str]:
        return f"LOT#{lottery_id}", "META"


ENTRY_SHARDS = 16     # a lottery's entries spread over 16 partitions by the pseudonym's first hex digit


def entry_shard(entrant: str) -> int:
    """The entry partition of a pseudonym: its first hex digit, so shards 0..f read in order are the
    sorted list (the close concatenates them, no merge)."""
    return int(entrant[0], 16)


def entry_pk(lottery_id: str, shard: int) -> str:
    return f"LOTENT#{lottery_id}#{shard:x}"


class EntryItem(_Base):
    """An entry; in one of ENTRY_SHARDS partitions (DynamoDB takes about 1,000 writes a second per
    partition key: a crowd entering at once is spread, and the close reads the shards in parallel)."""

    class Meta:
        table_name = "unbound"

    user_id = UnicodeAttribute()
    entrant = UnicodeAttribute()
    via = UnicodeAttribute()                  # entry | danmaku
    entered_at = UnicodeAttribute()

    @staticmethod
    def key(lottery_id: str, entrant: str) -> tuple[str, str]:
        return entry_pk(lottery_id, entry_shard(entrant)), f"ENT#{entrant}"


class CountShardItem(_Base):
    """The live entrant count of one entry partition (beside its entries)."""

    class Meta:
        table_name = "unbound"

    count = NumberAttribute(default=0)

    @staticmethod
    def key(lottery_id: str, shard: int) -> tuple[str, str]:
        return entry_pk(lottery_id, shard), "CNT"


class WinnerItem(_Base):
    class Meta:
        table_name = "unbound"

    rank = NumberAttribute()                  # the prize's number, 1..winners
    position = NumberAttribute()              # the shuffle position that won it (rank - 1, or a redraw's)
    entrant = UnicodeAttribute()
    user_id = UnicodeAttribute()
    nickname = UnicodeAttribute(null=True)
    state = UnicodeAttribute()                # granting | granted | pending | claimed | forfeited | failed
    claim_by = UnicodeAttribute(null=True)
    claim_by_epoch = NumberAttribute(null=True)
    address_ciphertext = UnicodeAttribute(null=True)
    address_masked = JSONAttribute(null=True)
    claimed_at = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)      # a grant's coupon id, a failure's reason
    order_id = UnicodeAttribute(null=True)    # a claimed product or gift: its prize order (orders.prizes)

    @staticmethod
    def key(lottery_id: str, position: int) -> tuple[str, str]:
        return f"LOT#{lottery_id}", f"WIN#{position:06d}"


class WonItem(_Base):
    """The winner's pointer: which shuffle position of this lottery is theirs."""

    class Meta:
        table_name = "unbound"

    position = NumberAttribute()

    @staticmethod
    def key(lottery_id: str, user_id: str) -> tuple[str, str]:
        return f"LOTUSER#{lottery_id}#{user_id}", "WON"


class BuyerItem(_Base):
    """A viewer paid an order in the room (from OrderPaid): buyers' lotteries."""

    class Meta:
        table_name = "unbound"

    first_order_id = UnicodeAttribute()
    expires_at = NumberAttribute()

    @staticmethod
    def key(room_id: str, user_id: str) -> tuple[str, str]:
        return f"ROOMBUYER#{room_id}", f"USER#{user_id}"


class EngagementOutboxItem(OutboxItem):
    class Meta:
        table_name = "unbound"


MODELS = (LotteryItem, EntryItem, CountShardItem, WinnerItem, WonItem, BuyerItem,
          EngagementOutboxItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, ENGAGEMENT)

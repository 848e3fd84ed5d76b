"""PynamoDB items of the interaction table.

  DM#<room>#<shard>   MSG#<ulid>        a danmaku message (TTL); INSERTs feed the batcher
  LIKES#<room>#<n>    TOTAL             one shard of the room's like counter
  ROOM#<room>         SETTINGS          quick phrases and the room's blocked words
  ROOM#<room>         MOD#<user>        mute (until) and ban of a user in the room, and their
                                        danmaku state (rate window, recent texts: speech.py), versioned
  ROOM#<room>         GATE#<name>       coalescing gate of a broadcaster (last publish,
                                        trailing publisher, pending value / cards)
  RATE#<room>#<user>  <kind>#<window>   per-user fixed-window counters (TTL)
  DUP#<room>#<user>   <text key>        duplicate suppression (TTL)
  FLOOD#<room>#<key>  W#<window>        identical-text flood counter (TTL)
  ROOM#<room>         FEED#<seq>        a danmaku batch of a room in poll mode (TTL 10 min)
  ROOM#<room>         FEEDSEQ           the room's last feed page number
  EVT#<event id>      SEEN              a domain event already broadcast (TTL)

Messages are write-sharded (DANMAKU_WRITE_SHARDS partitions per room, chosen by
a hash of the message id, so a message's key follows from its id) and like
counters too (LIKE_SHARDS): a crowded room stays under a partition's
1,000 writes a second.
"""
from __future__ import annotations

import zlib

from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from livecommerce.interaction.spec import INTERACTION
from livecommerce.shared import dynamo
from livecommerce.shared.storage import KeyedItem as _Base


class MessageItem(_Base):
    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    message_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    nickname = UnicodeAttribute(null=True)
    text = UnicodeAttribute()
    kind = UnicodeAttribute(default="text")          # text | phrase
    priority = BooleanAttribute(default=False)       # host or operator
    reply_to = JSONAttribute(null=True)              # {"id", "user_id", "text"}
    at_ms = NumberAttribute()
    created_at = UnicodeAttribute()
    expires_at = NumberAttribute()

    @staticmethod
    def key(room_id: str, message_id: str, shards: int) -> tuple[str, str]:
        shard = zlib.crc32(message_id.encode()) % max(1, shards)
        return f"DM#{room_id}#{shard}", f"MSG#{message_id}"


class LikeShardItem(_Base):
    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    count = NumberAttribute(default=0)

    @staticmethod
    def key(room_id: str, shard: int) -> tuple[str, str]:
        return f"LIKES#{room_id}#{shard}", "TOTAL"


class SettingsItem(_Base):
    class Meta:
        table_name = "unbound"

    quick_phrases = ListAttribute(of=UnicodeAttribute, null=True)
    blocked_words = ListAttribute(of=UnicodeAttribute, null=True)
    delivery = UnicodeAttribute(null=True)        # push | poll (interaction.delivery); None: by audience
    # The audience rule's last decision (interaction.delivery.follow, written by the live-figures ticker
    # through interaction.follow_audience): its mode, when it switched, the viewers it saw then.
    audience_mode = UnicodeAttribute(null=True)
    audience_switched_ms = NumberAttribute(null=True)
    audience_viewers = NumberAttribute(null=True)
    # The feed cadence the audience rule chose (interaction.delivery.poll_interval); None: the default.
    poll_interval_ms = NumberAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)

    @staticmethod
    def key(room_id: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", "SETTINGS"


class ModerationItem(_Base):
    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    muted_until = NumberAttribute(null=True)     # epoch seconds
    banned = BooleanAttribute(default=False)
    reason = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    speech = JSONAttribute(null=True)            # the sender's danmaku state (interaction.speech)
    v = NumberAttribute(null=True)               # version: every write adds 1 (the send path's condition)
    expires_at = NumberAttribute(null=True)      # only while the item holds nothing but speech

    @staticmethod
    def key(room_id: str, user_id: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", f"MOD#{user_id}"


class GateItem(_Base):
    class Meta:
        table_name = "unbound"

    last_ms = NumberAttribute(null=True)          # last publish
    trailing_ms = NumberAttribute(null=True)      # a trailing publisher waits for this time
    pending = JSONAttribute(null=True)            # latest value not yet published
    pending_version = UnicodeAttribute(null=True)
    published_version = UnicodeAttribute(null=True)
    cards = ListAttribute(null=True)              # timed-metadata cards / danmaku waiting (JSON strings)
    queued = NumberAttribute(null=True)           # entries offered since the queue was last taken
    # The danmaku gate carries the room's like total to its batches (density.simulate_push):
    likes_total = NumberAttribute(null=True)      # the latest total recorded by the realtime batcher
    likes_sent = NumberAttribute(null=True)       # the highest total a batch or like message carried
    likes_check_ms = NumberAttribute(null=True)   # a check for an undelivered total is asked for then

    @staticmethod
    def key(room_id: str, name: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", f"GATE#{name}"


class FeedPageItem(_Base):
    """One published batch of a room in poll mode (interaction.delivery): ROOM#<room> / FEED#<seq>."""

    class Meta:
        table_name = "unbound"

    seq = NumberAttribute()
    at_ms = NumberAttribute()
    message = JSONAttribute()
    expires_at = NumberAttribute()

    @staticmethod
    def key(room_id: str, seq: int) -> tuple[str, str]:
        return f"ROOM#{room_id}", f"FEED#{seq:012d}"


class CounterItem(_Base):
    class Meta:
        table_name = "unbound"

    n = NumberAttribute(default=0)
    until = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)


MODELS = (MessageItem, LikeShardItem, SettingsItem, ModerationItem, GateItem, CounterItem, FeedPageItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, INTERACTION)

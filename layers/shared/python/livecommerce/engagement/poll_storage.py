"""PynamoDB items of polls and quizzes in the engagement table, and their data access.

  POLL#<id>   META               the poll or quiz (kind, question, options, timer, state; a quiz's answer)
  POLL#<id>   VOTE#<user>        one vote or answer per viewer (a conditional put)
  POLL#<id>   OPT#<n>#<shard>    the votes of option n, sharded (added in the vote's transaction: exact)
  gsi1: POLLDUE / <closes epoch:012d>#<id>   an open poll or quiz until its close (the engagement
        clock's tick closes those whose timer was lost; removed at the close)
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from livecommerce.engagement.spec import ENGAGEMENT
from livecommerce.shared import dynamo
from livecommerce.shared.storage import Gsi1Index as DueIndex, KeyedItem as _Base
from livecommerce.shared.tx import Tx


class PollItem(_Base):
    class Meta:
        table_name = "unbound"

    gsi1pk = UnicodeAttribute(null=True)      # POLLDUE while open
    gsi1sk = UnicodeAttribute(null=True)      # <closes epoch:012d>#<id>
    due = DueIndex()
    poll_id = UnicodeAttribute()
    kind = UnicodeAttribute()                 # poll | quiz
    room_id = UnicodeAttribute()
    host_id = UnicodeAttribute()
    created_by = UnicodeAttribute()
    question = UnicodeAttribute()
    options = ListAttribute(of=UnicodeAttribute)
    multiple = BooleanAttribute(default=False)
    max_choices = NumberAttribute(default=1)
    answer = NumberAttribute(null=True)       # quizzes: hidden until closed
    points = NumberAttribute(null=True)
    state = UnicodeAttribute()                # open | closed
    opens_at = UnicodeAttribute()
    closes_at = UnicodeAttribute()
    closes_epoch = NumberAttribute()
    last_broadcast_ms = NumberAttribute(null=True)
    trailing_ms = NumberAttribute(null=True)
    awarded = BooleanAttribute(default=False)
    created_at = UnicodeAttribute()

    @staticmethod
    def key(poll_id: str) -> tuple[str, str]:
        return f"POLL#{poll_id}", "META"


class VoteItem(_Base):
    class Meta:
        table_name = "unbound"

    user_id = UnicodeAttribute()
    choices = ListAttribute(of=NumberAttribute)
    voted_at = UnicodeAttribute()
    voted_ms = NumberAttribute()

    @staticmethod
    def key(poll_id: str, user_id: str) -> tuple[str, str]:
        return f"POLL#{poll_id}", f"VOTE#{user_id}"


class OptionShardItem(_Base):
    class Meta:
        table_name = "unbound"

    count = NumberAttribute(default=0)

    @staticmethod
    def key(poll_id: str, option: int, shard: int) -> tuple[str, str]:
        return f"POLL#{poll_id}", f"OPT#{option:02d}#{shard}"


def bind_all() -> None:
    for model in (PollItem, VoteItem, OptionShardItem):
        dynamo.bind(model, ENGAGEMENT)


def get_poll(poll_id: str, *, consistent: bool = False) -> PollItem | None:
    bind_all()
    try:
        return PollItem.get(*PollItem.key(poll_id), consistent_read=consistent)
    except DoesNotExist:
        return None


def save_new(item: PollItem) -> None:
    bind_all()
    item.save(PollItem.pk.does_not_exist())


def vote_tx(poll_id: str, user_id: str, choices: list[int], shard: int, at: str, at_ms: int, now_epoch: float) -> Tx:
    """One vote: the vote item (once per viewer), its options' shard counters, and the poll still open
    (the check fails once it is closed or past its timer), all or nothing."""
    bind_all()
    tx = Tx().put("vote", VoteItem(*VoteItem.key(poll_id, user_id), user_id=user_id, choices=choices, voted_at=at,
                                   voted_ms=at_ms), VoteItem.pk.does_not_exist())
    for choice in choices:
        tx.update(f"count{choice}", OptionShardItem(*OptionShardItem.key(poll_id, choice, shard)),
                  [OptionShardItem.count.add(1)])
    tx.check("open", PollItem, *PollItem.key(poll_id),
             (PollItem.state == "open") & (PollItem.closes_epoch > now_epoch))
    return tx


def counts(poll_id: str) -> list[tuple[int, int]]:
    bind_all()
    return [(int(i.sk.split("#")[1]), int(i.count or 0))
            for i in OptionShardItem.query(f"POLL#{poll_id}", OptionShardItem.sk.startswith("OPT#"),
                                           consistent_read=True)]


def get_vote(poll_id: str, user_id: str) -> VoteItem | None:
    bind_all()
    try:
        return VoteItem.get(*VoteItem.key(poll_id, user_id), consistent_read=True)
    except DoesNotExist:
        return None


def votes(poll_id: str):
    bind_all()
    return VoteItem.query(f"POLL#{poll_id}", VoteItem.sk.startswith("VOTE#"), consistent_read=True)


DUE = "POLLDUE"


def due_key(poll_id: str, closes_epoch: int) -> tuple[str, str]:
    return DUE, f"{int(closes_epoch):012d}#{poll_id}"


def due_polls(until_epoch: float, limit: int = 100) -> list[PollItem]:
    """Open polls and quizzes whose timer ends before `until_epoch` (oldest first)."""
    bind_all()
    return list(PollItem.due.query(DUE, PollItem.gsi1sk < f"{int(until_epoch):012d}~", limit=limit))


def close(poll_id: str) -> bool:
    """open -> closed (and off the due index); False when it was closed already."""
    bind_all()
    try:
        PollItem(*PollItem.key(poll_id)).update(actions=[PollItem.state.set("closed"), PollItem.gsi1pk.remove(),
                                                         PollItem.gsi1sk.remove()],
                                                condition=PollItem.state == "open")
    except UpdateError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def mark_awarded(poll_id: str) -> bool:
    bind_all()
    try:
        PollItem(*PollItem.key(poll_id)).update(actions=[PollItem.awarded.set(True)],
                                                condition=PollItem.awarded == False)  # noqa: E712
    except UpdateError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def try_broadcast_slot(poll_id: str, now_ms: int, interval_ms: int) -> bool:
    """Take the poll's publish slot when the last broadcast is at least `interval_ms` old."""
    bind_all()
    try:
        PollItem(*PollItem.key(poll_id)).update(
            actions=[PollItem.last_broadcast_ms.set(now_ms)],
            condition=PollItem.last_broadcast_ms.does_not_exist() | (PollItem.last_broadcast_ms <= now_ms - interval_ms))
    except UpdateError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def claim_trailing(poll_id: str, slot_ms: int) -> bool:
    """Be the one caller who publishes at `slot_ms` (the next slot) for the votes of this window."""
    bind_all()
    try:
        PollItem(*PollItem.key(poll_id)).update(
            actions=[PollItem.trailing_ms.set(slot_ms)],
            condition=PollItem.trailing_ms.does_not_exist() | (PollItem.trailing_ms < slot_ms))
    except UpdateError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True

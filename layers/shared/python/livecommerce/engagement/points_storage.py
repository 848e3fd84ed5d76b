"""PynamoDB items of points for taking part (engagement.points) in the engagement table.

  PTSCAP#<user>          DAY#<day>            points granted that day in total (all rules)
  PTSCAP#<user>          DAY#<day>#<rule>     points granted that day under one rule
  PTSREF#<user>#<ref>    CLAIM                an award already decided (rule, day, points granted; TTL 8 days):
                                              a redelivery finds it and grants nothing more
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from livecommerce.engagement.spec import ENGAGEMENT
from livecommerce.shared import dynamo
from livecommerce.shared.storage import KeyedItem as _Base
from livecommerce.shared.tx import Tx

CLAIM_TTL_SECONDS = 8 * 24 * 3600


class UsedItem(_Base):
    class Meta:
        table_name = "unbound"

    used = NumberAttribute(default=0)
    expires_at = NumberAttribute(null=True)

    @staticmethod
    def key(user_id: str, day: str, rule: str | None = None) -> tuple[str, str]:
        return f"PTSCAP#{user_id}", f"DAY#{day}" + (f"#{rule}" if rule else "")


class ClaimItem(_Base):
    class Meta:
        table_name = "unbound"

    rule = UnicodeAttribute()
    day = UnicodeAttribute()
    granted = NumberAttribute()
    expires_at = NumberAttribute(null=True)

    @staticmethod
    def key(user_id: str, ref: str) -> tuple[str, str]:
        return f"PTSREF#{user_id}#{ref}", "CLAIM"


def bind_all() -> None:
    for model in (UsedItem, ClaimItem):
        dynamo.bind(model, ENGAGEMENT)


def get_claim(user_id: str, ref: str) -> ClaimItem | None:
    bind_all()
    try:
        return ClaimItem.get(*ClaimItem.key(user_id, ref), consistent_read=True)
    except DoesNotExist:
        return None


def used(user_id: str, day: str, rule: str) -> tuple[int, int]:
    """(granted today under `rule`, granted today in total), read consistently."""
    bind_all()
    keys = [UsedItem.key(user_id, day, rule), UsedItem.key(user_id, day)]
    found = {item.sk: int(item.used or 0) for item in UsedItem.batch_get(keys, consistent_read=True)}
    return found.get(keys[0][1], 0), found.get(keys[1][1], 0)


def _counter(tx: Tx, label: str, key: tuple[str, str], was: int, grant: int, expires_at: int) -> None:
    """The counter moves from what was read to was + grant, only if nobody moved it meanwhile."""
    unchanged = (UsedItem.used == was) if was else (UsedItem.pk.does_not_exist() | (UsedItem.used == 0))
    tx.update(label, UsedItem(*key), [UsedItem.used.set(was + grant), UsedItem.expires_at.set(expires_at)],
              unchanged)


def claim_tx(user_id: str, ref: str, rule: str, day: str, grant: int, *, used_by_rule: int, used_in_total: int,
             now_epoch: int) -> Tx:
    """The decision (once per ref) and both day counters, all or nothing."""
    bind_all()
    expires_at = now_epoch + CLAIM_TTL_SECONDS
    tx = Tx().put("claim", ClaimItem(*ClaimItem.key(user_id, ref), rule=rule, day=day, granted=grant,
                                     expires_at=expires_at), ClaimItem.pk.does_not_exist())
    if grant > 0:
        _counter(tx, "rule", UsedItem.key(user_id, day, rule), used_by_rule, grant, expires_at)
        _counter(tx, "total", UsedItem.key(user_id, day), used_in_total, grant, expires_at)
    return tx

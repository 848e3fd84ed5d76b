"""What each room-state kind currently shows (interaction.state_feed), in the interaction table.

  ROOM#<room>   STATE#<kind>   subject (the product, flash sale or lottery on show), version (the
                               newest event applied: occurred_at#event_id), message (what was
                               published), stock (a running flash sale's units left), stock_at (when
                               those units were read from the sale's shards, ms: a later read wins)

EventBridge may deliver a room's events out of order: a change applies only when its version is
newer than the last one applied (a conditional write), and an end clears only the subject on show
(unlisting a product that is no longer the card leaves the card alone).
"""
from __future__ import annotations

from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from livecommerce.interaction.spec import INTERACTION
from livecommerce.shared import dynamo
from livecommerce.shared.storage import KeyedItem as _Base


class RoomStateItem(_Base):
    class Meta:
        table_name = "unbound"

    subject = UnicodeAttribute(null=True)     # None once ended
    version = UnicodeAttribute()
    message = JSONAttribute(null=True)
    stock = NumberAttribute(null=True)
    stock_at = NumberAttribute(null=True)

    @staticmethod
    def key(room_id: str, kind: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", f"STATE#{kind}"


def _item(room_id: str, kind: str) -> RoomStateItem:
    dynamo.bind(RoomStateItem, INTERACTION)
    return RoomStateItem(*RoomStateItem.key(room_id, kind))


def _applied(update) -> bool:
    try:
        update()
        return True
    except UpdateError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise


def show(room_id: str, kind: str, subject: str, version: str, message: dict[str, Any], *,
         stock: int | None = None, same_subject: bool = False) -> bool:
    """`subject` is on show with `message` unless a newer change was applied (False then).
    same_subject: only while that subject is still on show (a countdown, a sold-out)."""
    item = _item(room_id, kind)
    condition = RoomStateItem.version.does_not_exist() | (RoomStateItem.version < version)
    if same_subject:
        condition = condition & (RoomStateItem.subject == subject)
    actions = [RoomStateItem.subject.set(subject), RoomStateItem.version.set(version),
               RoomStateItem.message.set(message)]
    if stock is not None:
        actions.append(RoomStateItem.stock.set(stock))
    return _applied(lambda: item.update(actions=actions, condition=condition))


def end(room_id: str, kind: str, subject: str | None, version: str) -> bool:
    """The subject's show ended (any subject when None): True when it was the one on show."""
    item = _item(room_id, kind)
    condition = RoomStateItem.subject.exists() & (RoomStateItem.version < version)
    if subject is not None:
        condition = condition & (RoomStateItem.subject == subject)
    return _applied(lambda: item.update(
        actions=[RoomStateItem.subject.remove(), RoomStateItem.version.set(version), RoomStateItem.message.remove(),
                 RoomStateItem.stock.remove(), RoomStateItem.stock_at.remove()], condition=condition))


def set_units(room_id: str, kind: str, subject: str, units: int, *, read_at_ms: int) -> bool:
    """The sale on show has `units` left, as read from its shards at `read_at_ms`; False when it is
    no longer on show or a later read was already stored (an older read never replaces a newer one)."""
    item = _item(room_id, kind)
    condition = (RoomStateItem.subject == subject) & (RoomStateItem.stock_at.does_not_exist()
                                                      | (RoomStateItem.stock_at < read_at_ms))
    return _applied(lambda: item.update(
        actions=[RoomStateItem.stock.set(units), RoomStateItem.stock_at.set(read_at_ms)], condition=condition))


def current(room_id: str, kind: str) -> RoomStateItem | None:
    dynamo.bind(RoomStateItem, INTERACTION)
    try:
        return RoomStateItem.get(*RoomStateItem.key(room_id, kind), consistent_read=True)
    except DoesNotExist:
        return None

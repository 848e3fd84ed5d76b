"""The domain events marketing emits: one model per type in spec.py `emits`.

Fields are what the producers in service.py send; `detail()` leaves out the
fields a producer did not set (a drop announced by its timer carries
`scheduled`, one dropped at once does not). Consumers parse a detail back with
`Model.parse(detail)`.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from livecommerce.shared.events import DomainEvent


class CouponTemplateCreated(DomainEvent):
    template_id: str
    room_id: str | None = None
    kind: str
    amount: int
    threshold: int
    total: int
    created_by: str


class _DropFields(BaseModel):
    """What a drop event tells the room and the bus (a field set, not an event type)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    drop_id: str
    room_id: str
    template_id: str
    purpose: str
    quantity: int
    drops_at: str
    name: str
    kind: str
    amount: int
    threshold: int


class CouponDropScheduled(DomainEvent, _DropFields):
    pass


class CouponDropped(DomainEvent, _DropFields):
    scheduled: bool | None = None      # True when announced by its timer (or the minute tick)


class ShareRewardConfigured(DomainEvent, _DropFields):
    pass


class CouponDropExhausted(DomainEvent):
    """The last coupon of a drop was claimed (once per drop): the room stops showing it."""

    drop_id: str
    room_id: str
    quantity: int


class CouponClaimed(DomainEvent):
    drop_id: str
    room_id: str
    template_id: str
    coupon_id: str
    user_id: str


class CouponRedeemed(DomainEvent):
    user_id: str
    template_id: str
    coupon_id: str
    points: int


class GiftRedeemed(DomainEvent):
    """A viewer exchanged points for a catalog gift: its zero-amount order (kind points_gift) ships it."""

    user_id: str
    product_id: str
    quantity: int
    points: int
    order_id: str


class ShareArrived(DomainEvent):
    room_id: str
    code: str
    sharer_id: str
    invitee_id: str
    rewarded: bool = False
    reason: str | None = None


class ShareRewarded(DomainEvent):
    room_id: str
    code: str
    sharer_id: str
    invitee_id: str
    coupon_id: str
    drop_id: str


class PointsChanged(DomainEvent):
    user_id: str
    delta: int
    reason: str
    ref: str


ALL = (CouponTemplateCreated, CouponDropScheduled, CouponDropped, CouponDropExhausted, CouponClaimed, CouponRedeemed,
       ShareRewardConfigured, ShareArrived, ShareRewarded, PointsChanged, GiftRedeemed)

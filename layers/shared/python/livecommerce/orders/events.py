"""The domain events orders emits: one model per type in spec.py `emits`.

Fields are what orders/service.py and orders/flash.py send. Order events carry
the order (`_OrderFields`: `flash_sale_id` and `coupon_id` are present, null when
none); flash-sale events carry the sale (`_FlashSaleFields`). Money is in fen (int).
StockChanged, which orders also emits, is catalog's (livecommerce.catalog.events).
Consumers parse a detail with `Model.parse(detail)` and read attributes.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from livecommerce.shared.events import DomainEvent


class EventLine(BaseModel):
    """One order line as events carry it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    product_id: str
    quantity: int
    unit_price: int


class _OrderFields(BaseModel):
    """The order, as every order event carries it (a field set, not an event type)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: str
    user_id: str
    room_id: str
    kind: str                           # room, flash_sale
    flash_sale_id: str | None = None
    subtotal: int
    discount: int
    total: int
    coupon_id: str | None = None
    lines: list[EventLine]


class OrderCreated(DomainEvent, _OrderFields):
    pay_by: str                         # unpaid after this, it expires


class OrderCancelled(DomainEvent, _OrderFields):
    cause: str                          # buyer


class OrderExpired(DomainEvent, _OrderFields):
    cause: str                          # payment_window


class OrderPaid(DomainEvent, _OrderFields):
    channel: str                        # wechat, alipay
    transaction_id: str
    paid_at: str


class OrderRefundRequired(DomainEvent):
    """Money arrived that the order cannot take: it must go back to the payer."""

    order_id: str
    user_id: str
    channel: str
    transaction_id: str
    amount: int                         # what was paid
    order_total: int
    reason: str                         # amount_mismatch, already_paid, order_<state>


class _FlashSaleFields(BaseModel):
    """The sale, as every flash-sale event carries it (a field set, not an event type)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    flash_sale_id: str
    room_id: str
    product_id: str
    name: str
    image: str | None = None
    price: int
    list_price: int
    stock: int
    per_user_limit: int
    starts_at: str
    ends_at: str


class FlashSaleScheduled(DomainEvent, _FlashSaleFields):
    server_time: str


class FlashSaleCountdown(DomainEvent, _FlashSaleFields):
    seconds_to_start: int
    server_time: str


class FlashSaleStarted(DomainEvent, _FlashSaleFields):
    scheduled: bool | None = None       # true when it opened at its scheduled time (absent: opened at once)


class FlashSaleSoldOut(DomainEvent, _FlashSaleFields):
    pass


class FlashSaleEnded(DomainEvent, _FlashSaleFields):
    stock_left: int
    sold_out: bool

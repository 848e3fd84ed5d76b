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


class OrderShipped(DomainEvent, _OrderFields):
    """The host or an operator handed the order to a carrier (the buyer's shipping notice)."""

    shipment_id: str
    carrier: str                        # a code from orders.fulfilment.CARRIERS
    carrier_name: str
    tracking_number: str
    shipped_at: str
    shipped_by: str                     # user id of the host or operator
    confirm_by: str                     # received automatically at this time unless the buyer confirms


class OrderDelivered(DomainEvent, _OrderFields):
    """The buyer confirmed receipt, or the automatic confirmation ran."""

    shipment_id: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    delivered_at: str
    cause: str                          # buyer, auto


class AfterSaleRequested(DomainEvent):
    """A buyer asked for money back (before shipping it is approved at once: AfterSaleRefundApproved follows)."""

    after_sale_id: str
    order_id: str
    user_id: str
    room_id: str
    amount: int                         # fen asked for
    reason: str
    stage: str                          # before_shipping, after_shipping
    state: str                          # requested, approved


class AfterSaleRefundApproved(DomainEvent):
    """An after-sale refund is approved: payments refunds `amount` through the provider, once.

    Emitted at once for a request before shipping, by the host's (or an operator's) approval after."""

    after_sale_id: str
    order_id: str
    user_id: str
    channel: str                        # wechat, alipay (how the order was paid)
    transaction_id: str                 # the provider's payment transaction
    amount: int                         # fen to refund
    order_total: int                    # what was paid for the order
    reason: str


class AfterSaleRejected(DomainEvent):
    after_sale_id: str
    order_id: str
    user_id: str
    amount: int
    reason: str                         # the host's reason


class OrderRefunded(DomainEvent, _OrderFields):
    """A refund reached the buyer (RefundSucceeded applied to the order, once per refund)."""

    refund_id: str
    after_sale_id: str | None = None
    amount: int                         # fen of this refund
    refunded_total: int                 # fen refunded on the order so far
    state: str                          # partially_refunded, refunded
    stock_returned: bool                # the goods never left: stock went back


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

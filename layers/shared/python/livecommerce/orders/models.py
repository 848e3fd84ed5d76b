"""Orders and flash-sale API shapes. Money is integer fen; prices come from the server."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from livecommerce.shared.fields import Fen, Integer, Quantity, Text, fen, integer, quantity, text

ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"
OrderState = Literal["pending_payment", "paid", "cancelled", "expired", "shipped", "delivered", "refunding",
                     "partially_refunded", "refunded"]
MAX_QUANTITY = 99


class Strict(BaseModel):
    """Request bodies: no unknown fields; text is taken as sent (shared.fields), never stripped."""
    model_config = ConfigDict(extra="forbid")


class Address(Strict):
    name: Text = text("Recipient.", min_length=1, max_length=40)
    phone: str = Field(pattern=r"^1[3-9]\d{9}$", description="Mainland China mobile number.")
    province: Text = text(min_length=1, max_length=20)
    city: Text = text(min_length=1, max_length=20)
    district: Text | None = text(default=None, max_length=20)
    detail: Text = text("Street, building, room.", min_length=1, max_length=120)


class OrderLineRequest(Strict):
    product_id: str = Field(pattern=ULID)
    quantity: Quantity = quantity("Units of this product.", ge=1, le=MAX_QUANTITY)


class CreateOrderRequest(Strict):
    """No price fields: the server prices every order (a client-sent price is refused)."""
    room_id: str = Field(pattern=ULID)
    items: list[OrderLineRequest] = Field(min_length=1, max_length=10,
                                          description="Each product at most once; raise its quantity instead "
                                                      "(422 `validation_failed` on `body.items`).")
    coupon_id: str | None = Field(default=None, pattern=ULID,
                                  description="A coupon from the caller's coupon centre. Left out: the best one applies.")
    auto_coupon: bool = Field(default=True, description="False: apply no coupon unless one is named.")
    address: Address

    @field_validator("items")
    @classmethod
    def _unique(cls, value: list[OrderLineRequest]) -> list[OrderLineRequest]:
        ids = [line.product_id for line in value]
        if len(ids) != len(set(ids)):
            raise ValueError("each product at most once; raise its quantity instead")
        return value


class OrderLine(BaseModel):
    product_id: str
    name: str
    image: str | None = None
    unit_price: int
    quantity: int
    line_total: int


class PaymentInfo(BaseModel):
    channel: Literal["wechat", "alipay"]
    transaction_id: str
    amount: int
    paid_at: str


class ShipmentInfo(BaseModel):
    shipment_id: str
    carrier: str
    carrier_name: str
    tracking_number: str
    shipped_by: str


class PrizeMarker(BaseModel):
    """A lottery prize shipped as a zero-amount order (orders.prizes): never paid money, never refunded."""

    lottery_id: str
    rank: int
    prize_kind: Literal["product", "gift"]


class PointsGiftMarker(BaseModel):
    """A catalog gift redeemed for points (orders.points_gifts): born paid at zero fen, shipped like any
    order; cancelled before shipping, the points and the stock come back; never refunded in money."""

    points: int = Field(description="Points the redemption spent (all units).")
    points_price: int = Field(description="Points per unit at the redemption.")


class PointsGiftOrder(BaseModel):
    """A points-gift order as marketing's redemption answer shows it (through the orders face)."""

    order_id: str
    state: str                          # paid (to ship) | shipped | delivered | cancelled
    product_id: str
    name: str
    quantity: int
    points: int


class Order(BaseModel):
    id: str
    user_id: str
    room_id: str
    kind: Literal["room", "flash_sale", "prize", "points_gift"]
    points_gift: PointsGiftMarker | None = Field(default=None, description="A gift for points (kind `points_gift`): "
                                                 "born paid at zero, shipped by an operator; the buyer may cancel "
                                                 "it before shipping (points and stock come back).")
    prize: PrizeMarker | None = Field(default=None, description="A lottery prize (kind `prize`): born paid at "
                                                                "zero, shipped like any order, no money refunds.")
    flash_sale_id: str | None = None
    lines: list[OrderLine]
    subtotal: int
    discount: int
    total: int
    coupon_id: str | None = None
    address: dict
    state: OrderState
    pay_by: str = Field(description="Unpaid after this time, the order expires and its stock comes back.")
    created_at: str
    paid_at: str | None = None
    closed_at: str | None = None
    payment: PaymentInfo | None = None
    shipment: ShipmentInfo | None = None
    shipped_at: str | None = None
    confirm_by: str | None = Field(default=None, description="Shipped and not confirmed: received automatically "
                                                              "at this time.")
    delivered_at: str | None = None
    refunded_amount: int = Field(default=0, description="Fen refunded so far.")
    open_after_sale: str | None = Field(default=None, description="The after-sale in progress, if any.")


class OrderPage(BaseModel):
    items: list[Order]
    cursor: str | None = None


class CreateFlashSaleRequest(Strict):
    product_id: str = Field(pattern=ULID)
    price: Fen = fen("Sale price.", gt=0, le=100_000_000)
    stock: Quantity = quantity("Units for the sale (taken from the product's stock).", ge=1, le=1_000_000)
    duration_seconds: Integer = integer("How long the sale runs, in seconds.", ge=10, le=24 * 3600)
    per_user_limit: Quantity = quantity("Units one viewer may buy.", default=1, ge=1, le=MAX_QUANTITY)
    starts_at: datetime | None = Field(default=None, description="Default: now. At most 7 days ahead.")
    expected_orders_per_second: Integer | None = integer(
        "Buys per second expected at the opening (a big sale): the stock is split over enough shards to "
        "take them (500 a second each, never more shards than units), and an operator can pre-warm the "
        "tables for it (POST /v1/flash-sales/{sale_id}/prewarm). Default: shards from the stock alone.",
        default=None, ge=1, le=45_000)

    @field_validator("starts_at")
    @classmethod
    def _tz(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-12-01T12:00:00Z")
        return value


class FlashSale(BaseModel):
    id: str
    room_id: str
    product_id: str
    name: str
    image: str | None = None
    price: int
    list_price: int
    stock: int
    stock_left: int
    per_user_limit: int
    starts_at: str
    ends_at: str
    state: Literal["scheduled", "on_sale", "sold_out", "ended"]
    server_time: str = Field(description="For the client's countdown.")


class FlashSaleList(BaseModel):
    items: list[FlashSale]


class TableWarmth(BaseModel):
    table: str = Field(description="The table's logical id (Orders, Idempotency).")
    write_units_needed: int = Field(description="Write units a second the sale's expected rate needs.")
    write_units_before: int = Field(description="The table's warm write throughput before this call.")
    status: str = Field(description="`warming` (UpdateTable sent; DynamoDB takes minutes) or `already_warm`.")


class FlashSalePrewarm(BaseModel):
    sale_id: str
    expected_orders_per_second: int
    shards: int
    shard_ceiling_orders_per_second: int = Field(description="What the sale's stock shards take (500 a second each).")
    tables: list[TableWarmth]


class FlashBuyRequest(Strict):
    quantity: Quantity = quantity("Units to buy.", default=1, ge=1, le=MAX_QUANTITY)
    address: Address


# -- for payments (through the face, livecommerce.orders) ------------------------------

class PayableOrder(BaseModel):
    """An order its buyer may pay now: what a payment provider is told."""

    order_id: str
    total: int
    pay_by: str
    pay_by_epoch: int
    line_names: list[str]


class PaymentAttempt(BaseModel):
    """A prepay made with a provider for an order (reused while valid: one order is never paid twice)."""

    order_id: str
    channel: str
    amount: int
    provider_ref: str                   # WeChat prepay_id / Alipay trade_no
    params: dict
    valid_until: str


class PrizeShipping(BaseModel):
    """A prize order's shipping state, for the lottery's host (engagement, through the face)."""

    order_id: str
    state: str                          # paid (to ship) | shipped | delivered
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None


class Settlement(BaseModel):
    """A payment a provider reported (applied to its order, or to be refunded): reconciliation's view."""

    order_id: str
    channel: str                        # wechat | alipay
    transaction_id: str
    amount: int                         # fen the provider took
    outcome: str                        # applied | refund_required
    reason: str | None = None
    paid_at: str

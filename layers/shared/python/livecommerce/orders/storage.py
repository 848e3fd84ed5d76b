"""PynamoDB items of the orders table.

  ORDER#<id>                 META            an order; gsi1 while unpaid (EXPIRY#<0..15>, by pay-by time),
                                             gsi2 (USER#<buyer>, newest first),
                                             gsi3 (ROOMORDER#<room>#<0..15>, by order id)
  ORDER#<id>                 PAY#<channel>   the prepay made with a provider (reused while valid)
  ORDER#<id>                 TXN#<ch>#<txn>  a payment the provider reported (applied, or to refund);
                                             gsi1 SETTLEDAY#<Beijing day of payment>#<0..3> (reconciliation)
  FLASH#<id>                 META            a flash sale; gsi1 until its FlashSaleStarted event is out,
                                             gsi2 (ROOMFLASH#<room>)
  FLASHSTOCK#<id>#<k>        SHARD           units left in stock shard k (one partition per shard)
  FLASHBUYER#<id>#<user>     BUYER           units a buyer holds in the sale (per-user limit)
  <aggregate>                OUTBOX#<ulid>   domain events (gsi1: pending, sharded)
  ORDER#<id>                 REFUND#<rid>    a refund result applied to the order (once per refund)
  AFTERSALE#<id>             META            an after-sale (gsi2 ORDERAS#<order>)
  PRIZE#<lottery>#<user>     ORDER           the prize order of a lottery's winner (one per lottery and winner)
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from livecommerce.orders.spec import ORDERS
from livecommerce.shared import dynamo
from livecommerce.shared.outbox import OutboxItem
from livecommerce.shared.storage import KeyedItem as _Base, Gsi1Index as Gsi1, Gsi2Index as Gsi2


class Gsi3(GlobalSecondaryIndex):
    """A room's orders: ROOMORDER#<room>#<shard> by order id (orders.repository.room_order_keys)."""

    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class OrderItem(_Base):
    class Meta:
        table_name = "unbound"

    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    gsi3pk = UnicodeAttribute(null=True)      # absent on orders written before the index (and points gifts)
    gsi3sk = UnicodeAttribute(null=True)
    by_expiry = Gsi1()
    by_buyer = Gsi2()
    by_room = Gsi3()

    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    room_id = UnicodeAttribute()
    kind = UnicodeAttribute()                 # room | flash_sale | prize (orders.prizes) | points_gift
    prize = JSONAttribute(null=True)          # a lottery prize: {"lottery_id", "rank", "prize_kind"}
    points_gift = JSONAttribute(null=True)    # a gift for points (orders.points_gifts): {"points", "points_price"}
    flash_sale_id = UnicodeAttribute(null=True)
    flash_shard = NumberAttribute(null=True)
    lines = JSONAttribute()
    subtotal = NumberAttribute()
    discount = NumberAttribute(default=0)
    total = NumberAttribute()
    coupon_id = UnicodeAttribute(null=True)
    address = JSONAttribute()
    state = UnicodeAttribute()
    pay_by = UnicodeAttribute()
    pay_by_epoch = NumberAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    paid_at = UnicodeAttribute(null=True)
    closed_at = UnicodeAttribute(null=True)
    payment = JSONAttribute(null=True)
    # Fulfilment and after-sales (orders.fulfilment, orders.after_sales). While shipped and not
    # received, gsi1 holds the order under RECEIPT#<0..15> by its automatic confirmation time.
    shipment = JSONAttribute(null=True)       # carrier, carrier_name, tracking_number, shipment_id, shipped_by
    shipped_at = UnicodeAttribute(null=True)
    confirm_by = UnicodeAttribute(null=True)
    delivered_at = UnicodeAttribute(null=True)
    refunded_amount = NumberAttribute(default=0)
    refund_reserved = NumberAttribute(default=0)   # the open after-sale's amount
    open_after_sale = UnicodeAttribute(null=True)

    @staticmethod
    def key(order_id: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", "META"


class AfterSaleItem(_Base):
    """An after-sale (orders.after_sales); gsi2 ORDERAS#<order> lists an order's after-sales."""

    class Meta:
        table_name = "unbound"

    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    by_order = Gsi2()
    after_sale_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    room_id = UnicodeAttribute()
    amount = NumberAttribute()
    reason = UnicodeAttribute()
    stage = UnicodeAttribute()                # before_shipping | after_shipping
    state = UnicodeAttribute()                # orders.after_sales.STATES
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    decided_by = UnicodeAttribute(null=True)
    decided_at = UnicodeAttribute(null=True)
    decision_note = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    refunded_at = UnicodeAttribute(null=True)
    failure = JSONAttribute(null=True)        # provider_code, message

    @staticmethod
    def key(after_sale_id: str) -> tuple[str, str]:
        return f"AFTERSALE#{after_sale_id}", "META"


class RefundAppliedItem(_Base):
    """A refund result (payments' RefundSucceeded / RefundFailed) applied to the order, once per refund."""

    class Meta:
        table_name = "unbound"

    refund_id = UnicodeAttribute()
    outcome = UnicodeAttribute()              # succeeded | failed
    amount = NumberAttribute()
    applied_at = UnicodeAttribute()

    @staticmethod
    def key(order_id: str, refund_id: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", f"REFUND#{refund_id}"


class PaymentItem(_Base):
    class Meta:
        table_name = "unbound"

    channel = UnicodeAttribute()
    amount = NumberAttribute()
    provider_ref = UnicodeAttribute()         # WeChat prepay_id / Alipay trade_no
    params = JSONAttribute()                  # what the mini-program passes to its pay call
    valid_until = UnicodeAttribute()
    created_at = UnicodeAttribute()

    @staticmethod
    def key(order_id: str, channel: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", f"PAY#{channel}"


class SettlementItem(_Base):
    class Meta:
        table_name = "unbound"

    channel = UnicodeAttribute()
    transaction_id = UnicodeAttribute()
    amount = NumberAttribute()
    outcome = UnicodeAttribute()              # applied | refund_required
    reason = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()
    paid_at = UnicodeAttribute(null=True)     # the provider's success time (absent on records before the index)
    # The day's payments for reconciliation (the provider's bill day: Beijing time), sharded.
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_day = Gsi1()

    @staticmethod
    def key(order_id: str, channel: str, transaction_id: str) -> tuple[str, str]:
        return f"ORDER#{order_id}", f"TXN#{channel}#{transaction_id}"


class FlashSaleItem(_Base):
    class Meta:
        table_name = "unbound"

    # While a timed step is ahead (countdown, start, end: orders.flash), gsi1 holds it by time.
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    start_pending = Gsi1()
    by_room = Gsi2()
    next_step = UnicodeAttribute(null=True)   # "countdown" | "start" | "end"
    next_at = UnicodeAttribute(null=True)     # ISO 8601, when next_step is due

    sale_id = UnicodeAttribute()
    room_id = UnicodeAttribute()
    host_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    name = UnicodeAttribute()
    image = UnicodeAttribute(null=True)
    price = NumberAttribute()
    list_price = NumberAttribute()
    stock = NumberAttribute()
    shards = NumberAttribute()
    per_user_limit = NumberAttribute()
    starts_at = UnicodeAttribute()
    ends_at = UnicodeAttribute()
    sold_out = BooleanAttribute(default=False)
    restocks = NumberAttribute(default=0)     # units given back so far: a sold-out mark must not hide them
    created_at = UnicodeAttribute()
    # Buys per second expected at the opening (None: not given); sizes the shards and the pre-warm.
    expected_rate = NumberAttribute(null=True)

    @staticmethod
    def key(sale_id: str) -> tuple[str, str]:
        return f"FLASH#{sale_id}", "META"


class FlashShardItem(_Base):
    class Meta:
        table_name = "unbound"

    left = NumberAttribute()

    @staticmethod
    def key(sale_id: str, shard: int) -> tuple[str, str]:
        return f"FLASHSTOCK#{sale_id}#{shard}", "SHARD"


class FlashBuyerItem(_Base):
    class Meta:
        table_name = "unbound"

    count = NumberAttribute(default=0)

    @staticmethod
    def key(sale_id: str, user_id: str) -> tuple[str, str]:
        return f"FLASHBUYER#{sale_id}#{user_id}", "BUYER"


class PrizeRefItem(_Base):
    """One prize order per lottery and winner (orders.prizes): written with the order, conditionally."""

    class Meta:
        table_name = "unbound"

    order_id = UnicodeAttribute()

    @staticmethod
    def key(lottery_id: str, user_id: str) -> tuple[str, str]:
        return f"PRIZE#{lottery_id}#{user_id}", "ORDER"


class OrdersOutboxItem(OutboxItem):
    """The one outbox item (livecommerce.shared.outbox), bound to this table."""

    class Meta:
        table_name = "unbound"


MODELS = (OrderItem, PaymentItem, SettlementItem, FlashSaleItem, FlashShardItem, FlashBuyerItem, OrdersOutboxItem,
          AfterSaleItem, RefundAppliedItem, PrizeRefItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, ORDERS)

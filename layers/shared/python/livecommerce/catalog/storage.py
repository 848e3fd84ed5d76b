"""PynamoDB items of the catalog table.

  PRODUCT#<id>   META               a product of the library (unallocated stock)
  ROOM#<room>    PRESET#<product>   the product's preset in a room: live price, live stock, listing
  <aggregate>    OUTBOX#<ulid>      domain events written with the change (gsi1: pending, sharded)
"""
from __future__ import annotations

from pynamodb.attributes import (BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute,
                                 UnicodeAttribute)

from livecommerce.catalog.spec import CATALOG
from livecommerce.shared import dynamo
from livecommerce.shared.outbox import OutboxItem
from livecommerce.shared.storage import KeyedItem as _Base, Gsi1Index as PendingIndex


class ProductItem(_Base):
    class Meta:
        table_name = "unbound"

    product_id = UnicodeAttribute()
    name = UnicodeAttribute()
    images = ListAttribute(of=UnicodeAttribute, default=list)
    description = UnicodeAttribute(null=True)
    list_price = NumberAttribute()
    stock = NumberAttribute(default=0)
    points_price = NumberAttribute(null=True)     # a gift for points (marketing's redemptions); None: not a gift
    points_limit = NumberAttribute(null=True)     # units one viewer may redeem; None: 1
    created_by = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute(default=0)

    @staticmethod
    def key(product_id: str) -> tuple[str, str]:
        return f"PRODUCT#{product_id}", "META"


class PresetItem(_Base):
    class Meta:
        table_name = "unbound"

    room_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    name = UnicodeAttribute()
    image = UnicodeAttribute(null=True)
    list_price = NumberAttribute()
    display_order = NumberAttribute(default=0)
    live_price = NumberAttribute()
    live_stock = NumberAttribute()
    stock_left = NumberAttribute()
    sold = NumberAttribute(default=0)
    promotion_note = UnicodeAttribute(null=True)
    listed = BooleanAttribute(default=False)
    listed_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(room_id: str, product_id: str) -> tuple[str, str]:
        return f"ROOM#{room_id}", f"PRESET#{product_id}"


class CatalogOutboxItem(OutboxItem):
    """The one outbox item (livecommerce.shared.outbox), bound to this table."""

    class Meta:
        table_name = "unbound"


MODELS = (ProductItem, PresetItem, CatalogOutboxItem)


def bind_all() -> None:
    for model in MODELS:
        dynamo.bind(model, CATALOG)

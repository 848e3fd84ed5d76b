"""The domain events catalog emits: one model per type in spec.py `emits`.

Fields are what the producers send (catalog/service.py; StockChanged also from
orders: orders, cancels and expiries, flash-sale releases). Consumers parse a
detail with `Model.parse(detail)` and read attributes. Money is in fen (int).
"""
from __future__ import annotations

from livecommerce.shared.events import DomainEvent


class ProductCreated(DomainEvent):
    """A product entered the library."""

    product_id: str
    name: str
    list_price: int
    stock: int                          # unallocated units


class ProductUpdated(DomainEvent):
    product_id: str
    changed: list[str]                  # the fields changed, sorted
    updated_by: str


class RoomProductsPreset(DomainEvent):
    """The room's presets were replaced: now exactly `product_ids`."""

    room_id: str
    product_ids: list[str]


class ProductListed(DomainEvent):
    """A preset went on the shelf, or a listed preset's live price changed (cause "price_changed").

    The product card's fields: `name` (not "title"), `stock_left` (not "stock"),
    `live_price` (fen), `image` and `promotion_note` (null when none)."""

    room_id: str
    product_id: str
    name: str
    image: str | None = None
    live_price: int
    stock_left: int
    promotion_note: str | None = None
    cause: str | None = None            # "price_changed"; absent when the host listed it


class ProductUnlisted(DomainEvent):
    room_id: str
    product_id: str
    cause: str                          # host, preset_removed


class StockChanged(DomainEvent):
    """Units left for sale in a room moved by `delta` (negative: taken).

    Emitted by catalog (cause "preset", with `stock_left`) and by orders (cause "order",
    "cancelled", "expired", with `order_id`; a flash sale's units carry `flash_sale_id`)."""

    room_id: str
    product_id: str | None = None
    flash_sale_id: str | None = None
    delta: int
    stock_left: int | None = None       # the preset's units left after the change (presets only)
    cause: str                          # preset, order, cancelled, expired
    order_id: str | None = None

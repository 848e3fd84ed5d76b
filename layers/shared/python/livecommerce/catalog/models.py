"""Catalog API shapes. Money is integer fen."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from livecommerce.shared.fields import (MAX_FEN, Fen, HttpsUrl, Integer, MultilineText, Quantity, Text, fen, integer,
                                        quantity, text)

MAX_PRICE_FEN = MAX_FEN              # 1,000,000 yuan: anything above is a typo
MAX_STOCK = 10_000_000
MAX_POINTS_PRICE = 10_000_000        # points for one unit of a gift (marketing's redemptions)
MAX_POINTS_LIMIT = 100               # units of one gift a viewer may hold at once through redemptions
POINTS_PRICE_NOTE = ("A gift for points: one unit costs this many points (POST /v1/points/redemptions, kind `gift`). "
                     "Left out: not a gift.")
POINTS_LIMIT_NOTE = ("Units of this gift one viewer may redeem (cancelled redemptions give theirs back); "
                     "left out: 1. Over it: 409 `gift_limit_reached`.")
ImageUrl = Field(max_length=1024, pattern=r"^https://[^\s]+$")


class Strict(BaseModel):
    """Request bodies: no unknown fields; text is taken as sent (shared.fields), never stripped."""
    model_config = ConfigDict(extra="forbid")


def _images(value: list[str] | None) -> list[str] | None:
    if value is None:
        return value
    for url in value:
        if not url.startswith("https://") or len(url) > 1024 or any(c.isspace() for c in url):
            raise ValueError("images are https URLs of at most 1024 characters")
    return value


class CreateProductRequest(Strict):
    name: Text = text("Product name.", min_length=1, max_length=60)
    images: list[HttpsUrl] = Field(default_factory=list, max_length=9,
                                   description="https URLs; the first is the card image.")
    description: MultilineText | None = text("Product description.", default=None, max_length=5000, multiline=True)
    list_price: Fen = fen("List price.", gt=0, le=MAX_PRICE_FEN)
    stock: Quantity = quantity("Units in the warehouse not yet allocated to a room or sale.", ge=0, le=MAX_STOCK)
    points_price: Integer | None = integer(POINTS_PRICE_NOTE, default=None, gt=0, le=MAX_POINTS_PRICE)
    points_limit: Integer | None = integer(POINTS_LIMIT_NOTE, default=None, ge=1, le=MAX_POINTS_LIMIT)

    _check_images = field_validator("images")(_images)


class UpdateProductRequest(Strict):
    """Only the fields sent change; at least one (an empty body is 400 `empty_update`). Name, images,
    price and stock may be left out but not cleared: they are not nullable."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    # The default None only means "not sent" (the service reads exclude_unset); null is refused.
    name: Text = text("Product name.", default=None, min_length=1, max_length=60)
    images: list[HttpsUrl] = Field(default=None, max_length=9, description="https URLs; the first is the card image.")
    description: MultilineText | None = text("Product description.", default=None, max_length=5000, multiline=True)
    list_price: Fen = fen("List price.", default=None, gt=0, le=MAX_PRICE_FEN)
    stock: Quantity = quantity("Set the unallocated stock to this number.", default=None, ge=0, le=MAX_STOCK)
    points_price: Integer | None = integer(POINTS_PRICE_NOTE.replace("Left out: not a gift.",
                                                                     "null: no longer a gift."),
                                           default=None, gt=0, le=MAX_POINTS_PRICE)
    points_limit: Integer | None = integer(POINTS_LIMIT_NOTE.replace("left out", "null"), default=None, ge=1,
                                           le=MAX_POINTS_LIMIT)

    _check_images = field_validator("images")(_images)


class Product(BaseModel):
    id: str
    name: str
    images: list[str]
    description: str | None = None
    list_price: int
    stock: int = Field(description="Unallocated warehouse stock.")
    points_price: int | None = Field(default=None, description="Points for one unit when the product is a gift for "
                                                               "points; null: not a gift.")
    points_limit: int | None = Field(default=None, description="Units one viewer may redeem (gifts only).")
    created_at: str
    updated_at: str


class PresetRequest(Strict):
    product_id: str = Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")
    display_order: Integer = integer("Position on the shelf, smallest first.", default=0, ge=0, le=10_000)
    live_price: Fen = fen("Price in the live.", gt=0, le=MAX_PRICE_FEN)
    live_stock: Quantity = quantity("Units set aside for this room (taken from the product's stock).",
                                    ge=0, le=MAX_STOCK)
    promotion_note: Text | None = text("Promotion note shown on the card.", default=None, max_length=60)


class PresetsRequest(Strict):
    items: list[PresetRequest] = Field(max_length=30, description="The room's whole preset list; products left out are removed. Each "
                                                                "product at most once (422 `validation_failed` on "
                                                                "`body.items`).")

    @field_validator("items")
    @classmethod
    def _unique(cls, value: list[PresetRequest]) -> list[PresetRequest]:
        ids = [p.product_id for p in value]
        if len(ids) != len(set(ids)):
            raise ValueError("each product at most once")
        return value


CardState = Literal["on_sale", "sold_out", "preset"]


class Preset(BaseModel):
    room_id: str
    product_id: str
    name: str
    image: str | None = None
    display_order: int
    live_price: int
    list_price: int
    live_stock: int
    stock_left: int
    sold: int
    promotion_note: str | None = None
    listed: bool
    listed_at: str | None = None


class PresetList(BaseModel):
    room_id: str
    items: list[Preset]


class Card(BaseModel):
    product_id: str
    name: str
    image: str | None = None
    live_price: int
    list_price: int
    stock_left: int
    promotion_note: str | None = None
    state: CardState


class CardList(BaseModel):
    room_id: str
    items: list[Card]


class ListingChange(BaseModel):
    room_id: str
    changed: list[str] = Field(description="Product ids whose listing state changed.")
    listed: bool

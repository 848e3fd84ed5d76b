"""Catalog API shapes. Money is integer fen."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_PRICE_FEN = 100_000_000          # 1,000,000 yuan: anything above is a typo
MAX_STOCK = 10_000_000
ImageUrl = Field(max_length=1024, pattern=r"^https://[^\s]+$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _images(value: list[str] | None) -> list[str] | None:
    if value is None:
        return value
    for url in value:
        if not url.startswith("https://") or len(url) > 1024 or any(c.isspace() for c in url):
            raise ValueError("images are https URLs of at most 1024 characters")
    return value


class CreateProductRequest(Strict):
    name: str = Field(min_length=1, max_length=60)
    images: list[str] = Field(default_factory=list, max_length=9, description="https URLs; the first is the card image.")
    description: str | None = Field(default=None, max_length=5000)
    list_price: int = Field(gt=0, le=MAX_PRICE_FEN, description="List price in fen.")
    stock: int = Field(ge=0, le=MAX_STOCK, description="Units in the warehouse not yet allocated to a room or sale.")

    _check_images = field_validator("images")(_images)


class UpdateProductRequest(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=60)
    images: list[str] | None = Field(default=None, max_length=9)
    description: str | None = Field(default=None, max_length=5000)
    list_price: int | None = Field(default=None, gt=0, le=MAX_PRICE_FEN)
    stock: int | None = Field(default=None, ge=0, le=MAX_STOCK,
                              description="Set the unallocated stock to this number.")

    _check_images = field_validator("images")(_images)


class Product(BaseModel):
    id: str
    name: str
    images: list[str]
    description: str | None = None
    list_price: int
    stock: int = Field(description="Unallocated warehouse stock.")
    created_at: str
    updated_at: str


class PresetRequest(Strict):
    product_id: str = Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")
    display_order: int = Field(default=0, ge=0, le=10_000)
    live_price: int = Field(gt=0, le=MAX_PRICE_FEN, description="Price in the live, fen.")
    live_stock: int = Field(ge=0, le=MAX_STOCK, description="Units set aside for this room (taken from the product's stock).")
    promotion_note: str | None = Field(default=None, max_length=60)


class PresetsRequest(Strict):
    items: list[PresetRequest] = Field(max_length=30, description="The room's whole preset list; products left out are removed.")

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

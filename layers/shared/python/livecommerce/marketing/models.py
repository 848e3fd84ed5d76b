"""Marketing API shapes: coupon templates, drops, coupons, shares, points. Money is integer fen."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from livecommerce.shared.fields import Fen, Integer, Quantity, Text, fen, integer, quantity, text

ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"
Kind = Literal["threshold", "no_threshold"]
CouponState = Literal["available", "locked", "used", "expired"]


class Strict(BaseModel):
    """Request bodies: no unknown fields; text is taken as sent (shared.fields), never stripped."""
    model_config = ConfigDict(extra="forbid")


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-12-01T12:00:00Z")
    return value


class CreateTemplateRequest(Strict):
    """Exactly one of `valid_until` and `valid_days` (the schema's oneOf; the model checks the same).
    Rules across fields the schema cannot state are in the fields' descriptions with their answer."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "oneOf": [{"required": ["valid_until"], "properties": {"valid_until": {"type": "string"}}},
                  {"required": ["valid_days"], "properties": {"valid_days": {"type": "integer"}}}],
        # `no_threshold`: threshold 0 (or left out).
        "anyOf": [{"properties": {"kind": {"const": "threshold"}}},
                  {"properties": {"threshold": {"const": 0}}}],
    })

    name: Text = text("Coupon name shown to viewers.", min_length=1, max_length=40)
    kind: Kind = Field(description="`threshold`: 满 threshold 减 amount; `no_threshold`: amount off any order.")
    amount: Fen = fen("Taken off the order.", gt=0, le=100_000_00)
    threshold: Fen = fen("Subtotal the order must reach: for `threshold` coupons more than `amount`, for "
                         "`no_threshold` ones 0 (422 `validation_failed` on `body.threshold` otherwise).",
                         default=0, ge=0, le=100_000_000)
    total: Quantity = quantity("Coupons of this template that may ever be issued.", gt=0, le=10_000_000)
    per_user_limit: Quantity = quantity("Coupons of this template one viewer may hold.", default=1, ge=1, le=100)
    valid_from: datetime | None = Field(default=None, description="Default: when claimed.")
    valid_until: datetime | None = Field(default=None, description="With a time zone. Give exactly one of this and "
                                                                  "`valid_days`. After `valid_from` when both are "
                                                                  "given (422 `validation_failed` otherwise).")
    valid_days: Integer | None = integer("Valid for this many days after the claim. Give exactly one of this and "
                                         "`valid_until`.", default=None, ge=1, le=365)
    room_id: str | None = Field(default=None, pattern=ULID,
                                description="Only for orders in this room. Required for hosts (422 `validation_failed` "
                                            "on `body.room_id`); operators may leave it out.")
    points_cost: Integer | None = integer("Viewers may redeem this many points for one coupon (operators only).",
                                          default=None, ge=1, le=10_000_000)

    _tz = field_validator("valid_from", "valid_until")(_aware)

    @model_validator(mode="after")
    def _validity(self) -> "CreateTemplateRequest":
        if (self.valid_until is None) == (self.valid_days is None):
            raise ValueError("give exactly one of valid_until or valid_days")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class Template(BaseModel):
    id: str
    name: str
    kind: Kind
    amount: int
    threshold: int
    total: int
    issued: int
    per_user_limit: int
    valid_from: str | None = None
    valid_until: str | None = None
    valid_days: int | None = None
    room_id: str | None = None
    points_cost: int | None = None
    created_at: str


class CreateDropRequest(Strict):
    template_id: str = Field(pattern=ULID)
    quantity: Quantity | None = quantity("Coupons in this drop (default: all the template has left).",
                                         default=None, ge=1, le=10_000_000)
    drops_at: datetime | None = Field(default=None, description="Claimable from this time (default: now), with a "
                                                               "time zone; at most 30 days ahead (422 "
                                                               "`validation_failed` on `body.drops_at`).")
    purpose: Literal["claim", "share_reward"] = Field(
        default="claim", description="`share_reward`: not claimable; sharers receive it when a new viewer arrives "
                                     "through their share code (the room's latest share-reward drop is used).")

    _tz = field_validator("drops_at")(_aware)


class Drop(BaseModel):
    id: str
    template_id: str
    room_id: str
    purpose: Literal["claim", "share_reward"]
    name: str
    kind: Kind
    amount: int
    threshold: int
    quantity: int
    left: int
    drops_at: str
    valid_until: str | None = Field(default=None, description="The coupons' fixed end, if the template has one: "
                                                              "the drop ends then.")
    state: Literal["scheduled", "open", "exhausted", "ended"]
    created_at: str


class DropPage(BaseModel):
    items: list[Drop]
    cursor: str | None = None


class Coupon(BaseModel):
    id: str
    template_id: str
    name: str
    kind: Kind
    amount: int
    threshold: int
    room_id: str | None = None
    valid_from: str
    valid_until: str
    state: CouponState
    order_id: str | None = None
    source: Literal["claim", "share_reward", "points", "prize"]   # prize: marketing.grant_coupon (lottery prizes, post-live notices)
    claimed_at: str
    used_at: str | None = None


class CouponPage(BaseModel):
    items: list[Coupon]
    cursor: str | None = None


class ShareCode(BaseModel):
    code: str
    room_id: str
    sharer_id: str
    path: str = Field(description="Where an invitee's client reports arriving: POST this path.")
    created_at: str


class Arrival(BaseModel):
    code: str
    room_id: str
    first_arrival: bool = Field(description="False when this viewer had already arrived in the room through a share.")
    rewarded: bool = Field(description="Whether the sharer received the room's share coupon for this arrival.")
    reason: str | None = Field(default=None, description="Why no reward, when none was given.")


class LedgerEntry(BaseModel):
    id: str
    delta: int
    reason: str
    ref: str | None = None
    created_at: str


class Points(BaseModel):
    balance: int
    ledger: list[LedgerEntry]
    cursor: str | None = None


class RedemptionRequest(Strict):
    kind: Literal["coupon"] = Field(default="coupon", description="`coupon` (the default) or `gift` "
                                                                   "(a catalog gift: see the gift body).")
    template_id: str = Field(pattern=ULID, description="A coupon template with a `points_cost`.")


class Redemption(BaseModel):
    kind: Literal["coupon"] = "coupon"
    coupon: Coupon
    points_spent: int

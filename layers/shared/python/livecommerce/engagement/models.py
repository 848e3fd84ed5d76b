"""Engagement API shapes (lotteries)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from livecommerce.shared.fields import Integer, Text, integer, text

LotteryKind = Literal["keyword", "follow", "share", "buyers"]
PrizeKind = Literal["coupon", "points", "product", "gift"]


def _prize_of(kind: str, needed: str | None, needed_type: str | None) -> dict:
    """One arm of Prize's anyOf: the kind's own field given (not null), the others absent or null."""
    properties: dict = {"kind": {"const": kind}}
    for name in ("template_id", "points", "product_id"):
        properties[name] = {"type": needed_type} if name == needed else {"type": "null"}
    return {"properties": properties, **({"required": [needed]} if needed else {})}


class Prize(BaseModel):
    """A prize: `coupon` with template_id, `points` with points, `product` with product_id, `gift` with none
    of them (the schema's anyOf; the model checks the same)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        _prize_of("coupon", "template_id", "string"), _prize_of("points", "points", "integer"),
        _prize_of("product", "product_id", "string"), _prize_of("gift", None, None)]})

    kind: PrizeKind
    name: Text = text("What the winners get, as the room sees it.", min_length=1, max_length=60)
    template_id: str | None = Field(default=None, pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$",
                                    description="coupon: the coupon template (404 template_not_found).")
    points: Integer | None = integer("points: points per winner.", default=None, gt=0, le=1_000_000)
    product_id: str | None = Field(default=None, pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$",
                                   description="product: the catalog product (404 product_not_found).")

    @model_validator(mode="after")
    def _fields_of_kind(self) -> "Prize":
        needed = {"coupon": "template_id", "points": "points", "product": "product_id"}.get(self.kind)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"a {self.kind} prize needs {needed}")
        for name in ("template_id", "points", "product_id"):
            if name != needed and getattr(self, name) is not None:
                raise ValueError(f"a {self.kind} prize has no {name}")
        return self


class CreateLotteryRequest(BaseModel):
    """`keyword` is given (not null) for keyword lotteries and only for them (the schema's anyOf; the
    model checks the same)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"anyOf": [
        {"properties": {"kind": {"const": "keyword"}, "keyword": {"type": "string"}}, "required": ["keyword"]},
        {"properties": {"kind": {"enum": [k for k in get_args(LotteryKind) if k != "keyword"]},
                        "keyword": {"type": "null"}}}]})

    kind: LotteryKind = Field(description="keyword: viewers type `keyword` as danmaku; follow: followers of the "
                                          "host enter; share: viewers who shared the room; buyers: viewers who "
                                          "paid an order in the room.")
    keyword: Text | None = text("keyword lotteries: the word to type (exact, trimmed).", default=None,
                               min_length=1, max_length=20)
    prize: Prize
    winners: Integer = integer("Number of winners.", gt=0, le=1000)
    duration_seconds: Integer = integer("The entry window, from opening.", ge=10, le=24 * 3600)
    opens_at: datetime | None = Field(default=None, description="Default now; at most 7 days ahead.")
    followers_only: bool = False
    exclude_moderated: bool = Field(default=True, description="Banned or muted viewers cannot enter.")
    exclude_new_accounts: bool = Field(default=False, description="Accounts created after the opening cannot enter.")
    on_unclaimed: Literal["forfeit", "redraw"] = Field(
        default="forfeit", description="A product or gift not claimed (address) within 24 h: forfeited, or "
                                       "redrawn to the next entrant of the same verifiable shuffle.")

    @model_validator(mode="after")
    def _keyword(self) -> "CreateLotteryRequest":
        if (self.kind == "keyword") != (self.keyword is not None):
            raise ValueError("keyword is required for keyword lotteries and only for them")
        return self


class Winner(BaseModel):
    rank: int
    entrant: str = Field(description="The winner's pseudonym in the entrant list.")
    nickname: str | None = None
    prize_state: str = Field(description="granted (coupon, points), pending (address due), claimed, forfeited, "
                                         "failed, granting")
    claim_by: str | None = None


class PrizeShipment(BaseModel):
    """A physical prize's order (the fulfilment path): the host ships it with POST /v1/orders/{id}/shipments."""

    order_id: str
    state: str = Field(description="paid (to ship), shipped, delivered")
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None


class HostPrize(Winner):
    user_id: str
    claimed_at: str | None = None
    address: dict | None = Field(default=None, description="The masked shipping address.")
    detail: str | None = None
    order_id: str | None = Field(default=None, description="A claimed product or gift: its zero-amount prize order.")
    shipping: PrizeShipment | None = None


class LotteryView(BaseModel):
    id: str
    room_id: str
    kind: LotteryKind
    keyword: str | None = None
    prize: Prize
    winners_count: int
    state: Literal["scheduled", "open", "closed", "drawn"]
    opens_at: str
    closes_at: str
    followers_only: bool
    exclude_moderated: bool
    exclude_new_accounts: bool
    on_unclaimed: str
    entrants: int
    commitment: str
    salt: str
    entrants_hash: str | None = None
    beacon_round: int | None = None
    draws_at: str | None = None
    winners: list[Winner] = Field(default_factory=list)
    me: Winner | None = Field(default=None, description="The caller's own prize, when they won.")
    prizes: list[HostPrize] | None = Field(default=None, description="For the room's host: every prize's state.")
    prize_summary: dict[str, int] | None = Field(default=None, description="For the host: claimed, pending, "
                                                                           "forfeited, granted counts.")


class Entry(BaseModel):
    lottery_id: str
    entrant: str
    entered_at: str


class AddressRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text = text("Recipient.", min_length=1, max_length=40)
    phone: str = Field(pattern=r"^\+?[0-9]{6,15}$")
    region: Text = text("Province, city, district.", min_length=1, max_length=80)
    address: Text = text("Street and number.", min_length=1, max_length=200)
    postcode: str | None = Field(default=None, pattern=r"^[0-9]{6}$")


class Claim(BaseModel):
    lottery_id: str
    rank: int
    prize_state: Literal["claimed"]
    claimed_at: str
    address: dict
    order_id: str = Field(description="The prize's order (zero amount, paid): shipped to this address by the host.")


class Proof(BaseModel):
    version: str
    lottery_id: str
    room_id: str
    state: str
    winners_count: int
    salt: str
    commitment: str
    secret: str | None = Field(default=None, description="Revealed at the draw.")
    entrants_hash: str | None = None
    closed_at: str | None = None
    entrants_count: int | None = Field(default=None, description="Entrants frozen at the close.")
    entrants: list[str] | None = Field(default=None, description="The frozen, sorted pseudonym list (hex), inline "
                                                                 "up to 20,000 entrants; longer: entrants_url.")
    entrants_url: str | None = Field(default=None, description="A link (1 h) to the frozen list as published: the "
                                                               "sorted 12-byte pseudonyms concatenated, binary.")
    beacon: dict | None = Field(default=None, description="drand chain (pinned key, scheme, period, genesis), round, "
                                                          "signature, randomness.")
    positions: int | None = Field(default=None, description="Shuffle positions drawn: winners, then redraws.")
    drawn: list[dict] | None = Field(default=None, description="[{position, entrant, rank, state}]")
    algorithm: str

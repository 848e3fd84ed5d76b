"""The shapes of the analytics reads: live figures, the post-live report, viewers, comparisons.

Money is integer fen; rates are fractions in [0, 1] rounded to 4 places; times are ISO 8601 UTC.
Every figure counts accepted traffic only; `traffic` shows raw and accepted side by side.
"""
from __future__ import annotations

from pydantic import BaseModel, Field


class LiveMinute(BaseModel):
    minute: str = Field(description="Start of the minute (ISO 8601 UTC).")
    online: int = Field(description="Viewers online at the last tick of the minute.")
    orders: int = Field(description="Orders paid in the minute.")
    gmv: int = Field(description="Fen paid in the minute.")


class LiveFigures(BaseModel):
    room_id: str
    status: str = Field(description="The room's status: live figures tick while it is live.")
    online: int = Field(description="Viewers connected to the room's channel now.")
    peak_online: int
    peak_at: str | None = None
    cumulative_viewers: int = Field(description="Distinct viewers who joined the room's channel so far.")
    orders: int = Field(description="Orders paid so far.")
    gmv: int = Field(description="Fen paid so far.")
    updated_at: str
    per_minute: list[LiveMinute]


class Funnel(BaseModel):
    viewers: int
    clickers: int = Field(description="Viewers who clicked a product.")
    orderers: int = Field(description="Viewers who placed an order.")
    payers: int = Field(description="Viewers who paid an order.")
    click_rate: float = Field(description="clickers / viewers")
    order_rate: float = Field(description="orderers / clickers")
    pay_rate: float = Field(description="payers / orderers")
    conversion_rate: float = Field(description="payers / viewers")


class Summary(BaseModel):
    unique_viewers: int
    views: int = Field(description="Entries into the room (a viewer may enter several times).")
    average_watch_seconds: int
    median_watch_seconds: int
    peak_online: int
    peak_at: str | None = None
    new_followers: int
    danmaku: int
    likes: int
    shares: int
    card_impressions: int
    product_clicks: int
    lottery_entrants: int
    orders: int = Field(description="Orders placed.")
    paid_orders: int
    gmv: int = Field(description="Fen paid.")
    average_order_value: int = Field(description="Fen per paid order (rounded down).")
    refunds: int = Field(description="Refunds made.")
    refund_amount: int = Field(description="Fen refunded.")


class Minute(BaseModel):
    minute: str
    online: int = Field(description="Distinct accepted viewers active (heartbeat or entry) in the minute.")
    orders: int = Field(description="Orders paid in the minute.")
    gmv: int
    danmaku: int


class ProductRow(BaseModel):
    product_id: str
    impressions: int
    clicks: int
    orders: int = Field(description="Paid orders holding the product.")
    units: int
    gmv: int = Field(description="Fen paid for the product (line price times units).")
    click_to_buy_rate: float = Field(description="Paid orders / clicks.")


class Traffic(BaseModel):
    """Raw and accepted counts side by side, with why traffic was excluded."""

    raw_viewers: int
    accepted_viewers: int
    raw_views: int
    accepted_views: int
    raw_beacons: int
    accepted_beacons: int
    raw_likes: int
    accepted_likes: int
    excluded_viewers_by_reason: dict[str, int] = Field(
        description="Excluded viewers per reason (a viewer excluded for two reasons counts under both).")


class Report(BaseModel):
    room_id: str
    host_id: str
    title: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    computed_at: str
    summary: Summary
    funnel: Funnel
    per_minute: list[Minute]
    products: list[ProductRow]
    traffic: Traffic


class ViewerRow(BaseModel):
    user_id: str
    watch_seconds: int
    product_clicks: int
    orders: int
    paid_orders: int
    amount: int = Field(description="Fen paid.")
    coupons_used: int
    tags: list[str]


class ViewerPage(BaseModel):
    items: list[ViewerRow]
    cursor: str | None = Field(default=None, description="Pass back as `cursor` for the next page; null at the end.")


class ExportLink(BaseModel):
    url: str = Field(description="Presigned link to the workbook, valid for `expires_in` seconds.")
    expires_in: int


class ProductTotals(BaseModel):
    """One product over the caller's sessions (a row of a product comparison)."""

    product_id: str
    sessions: int
    impressions: int
    clicks: int
    orders: int
    units: int
    gmv: int
    click_to_buy_rate: float


class Comparison(BaseModel):
    rooms: list[Report] = Field(default_factory=list, description="The sessions in the order asked (?rooms=).")
    products: list[ProductTotals] = Field(default_factory=list,
                                          description="The products in the order asked (?products=), each over "
                                                      "the caller's sessions.")
    differences: list[dict[str, float | int | str | None]] = Field(
        description="For each session (or product) after the first, each figure's change from the first "
                    "(`<figure>`: absolute, `<figure>_pct`: relative, null when the first is 0).")


class ProductSession(BaseModel):
    room_id: str
    started_at: str | None = None
    impressions: int
    clicks: int
    orders: int
    units: int
    gmv: int
    click_to_buy_rate: float


class ProductStats(BaseModel):
    """The product's sessions in one page of the rooms that presented it (a host's own rooms; every
    room for an operator); `cursor` asks for the next page, None at the end."""

    product_id: str
    sessions: list[ProductSession]
    cursor: str | None = None

"""Fulfilment and after-sale API shapes. Money is integer fen."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from livecommerce.orders.fulfilment import CARRIERS
from livecommerce.shared.fields import Fen, Text, fen, text

ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"
Carrier = Literal[tuple(CARRIERS)]                              # type: ignore[valid-type]
TRACKING = r"^[A-Z0-9]{8,30}$"
AfterSaleState = Literal["requested", "approved", "rejected", "refunded", "refund_failed"]
MAX_BULK_SHIPMENTS = 100


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_carrier_help = "Carrier code: " + ", ".join(f"{code} ({name})" for code, (name, _) in CARRIERS.items()) + "."
_tracking_help = ("The carrier's tracking number, upper case, no spaces. Each carrier's numbers have their "
                  "own shape (422 `invalid_tracking_number` otherwise).")


class ShipmentRequest(Strict):
    carrier: Carrier = Field(description=_carrier_help)
    tracking_number: str = Field(pattern=TRACKING, description=_tracking_help)


class BulkShipment(Strict):
    order_id: str = Field(pattern=ULID)
    carrier: Carrier = Field(description=_carrier_help)
    tracking_number: str = Field(pattern=TRACKING, description=_tracking_help)


class BulkShipmentRequest(Strict):
    shipments: list[BulkShipment] = Field(min_length=1, max_length=MAX_BULK_SHIPMENTS,
                                          description="Each order at most once (422 `validation_failed`).")

    @field_validator("shipments")
    @classmethod
    def _unique(cls, value: list[BulkShipment]) -> list[BulkShipment]:
        ids = [s.order_id for s in value]
        if len(ids) != len(set(ids)):
            raise ValueError("each order at most once")
        return value


class ShipmentResult(BaseModel):
    order_id: str
    ok: bool
    state: str | None = Field(default=None, description="The order's state after the call, when known.")
    status: int = Field(description="What shipping this order alone would have answered.")
    code: str | None = Field(default=None, description="The problem code when not ok.")
    detail: str | None = None


class BulkShipmentResult(BaseModel):
    """Per-order results; some orders may ship while others are refused. A retry of the same
    list answers each order that shipped with the same tracking number as ok again."""
    results: list[ShipmentResult]
    shipped: int
    failed: int


class AfterSaleRequest(Strict):
    amount: Fen | None = fen("Fen to refund. Before shipping: the whole order (left out: everything left "
                             "to refund); after: at most what is left (422 `refund_exceeds_paid`).",
                             default=None, gt=0, le=100_000_000)
    reason: Text | None = text("Why (one line; required after shipping: 422 `reason_required`).",
                               default=None, min_length=1, max_length=500)


class AfterSaleDecision(Strict):
    note: Text | None = text("The host's note to the buyer (a rejection's reason).", default=None,
                             min_length=1, max_length=200)


class AfterSale(BaseModel):
    id: str
    order_id: str
    user_id: str
    room_id: str
    amount: int
    reason: str
    stage: Literal["before_shipping", "after_shipping"]
    state: AfterSaleState
    created_at: str
    decided_by: str | None = None
    decided_at: str | None = None
    decision_note: str | None = None
    refund_id: str | None = None
    refunded_at: str | None = None

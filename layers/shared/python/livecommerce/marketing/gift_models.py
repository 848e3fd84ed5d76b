"""API shapes of a gift for points (`POST /v1/points/redemptions`, kind `gift`). Kept apart from
marketing.models: the address is orders' `Address` (through the orders face), and marketing.models is
loaded by marketing's service, which the orders context reaches through marketing's face; only the
router and marketing.gifts load this module, so the context graph keeps no cycle."""
from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from livecommerce.marketing.models import ULID, Redemption, RedemptionRequest
from livecommerce.orders import Address
from livecommerce.shared.fields import Quantity, quantity

MAX_GIFT_QUANTITY = 100


class GiftRedemptionRequest(BaseModel):
    """A catalog gift for points: the points, the gift's units and its zero-amount order commit together."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["gift"]
    product_id: str = Field(pattern=ULID, description="A catalog product with a `points_price` (409 `not_a_gift` "
                                                      "otherwise; 404 `product_not_found`).")
    quantity: Quantity = quantity("Units; at most the product's `points_limit` per viewer, counting their "
                                  "redemptions not cancelled (409 `gift_limit_reached`). Points: "
                                  "`points_price` x quantity (409 `insufficient_points`); units from the "
                                  "product's stock (409 `gift_out_of_stock`).", ge=1, le=MAX_GIFT_QUANTITY)
    address: Address


class GiftRedemption(BaseModel):
    kind: Literal["gift"] = "gift"
    order_id: str = Field(description="The gift's order (kind `points_gift`, zero amount): `GET /v1/orders/{id}` "
                                      "follows its shipping; `POST /v1/orders/{id}/cancel` before it ships gives "
                                      "the points and the stock back.")
    product_id: str
    name: str
    quantity: int
    points_spent: int
    state: str = Field(description="The order's state: paid (to ship), shipped, delivered, cancelled.")


def _kind(value: Any) -> str:
    kind = value.get("kind", "coupon") if isinstance(value, dict) else getattr(value, "kind", "coupon")
    return "gift" if kind == "gift" else "coupon"


AnyRedemptionRequest = Annotated[Union[Annotated[RedemptionRequest, Tag("coupon")],
                                       Annotated[GiftRedemptionRequest, Tag("gift")]], Discriminator(_kind)]
AnyRedemption = Annotated[Union[Redemption, GiftRedemption], Field(discriminator="kind")]

"""The domain events interaction consumes, as their producers' models.

Every type in spec.BROADCAST_EVENTS is owned by one context (rooms, catalog,
orders, marketing: their spec's `emits`) and modelled in that context's
`events` module; the broadcasts function and the timed-metadata cards parse a
detail with its producer's model and read attributes, so a field the producer
does not send fails in the tests, not in the video.
"""
from __future__ import annotations

from typing import Any

from livecommerce.catalog.events import ProductListed, ProductUnlisted, StockChanged
from livecommerce.engagement.events import (LotteryClosed, LotteryCountdown, LotteryDrawn, LotteryOpened,
                                            LotteryRedrawn)
from livecommerce.interaction.spec import BROADCAST_EVENTS
from livecommerce.marketing.events import CouponDropExhausted, CouponDropped
from livecommerce.media.events import (CostreamGuestMuted, CostreamInvited, CostreamJoined, CostreamLayoutChanged,
                                       CostreamLeft, CostreamRequested, PkEnded, PkScore, PkStarted)
from livecommerce.orders.events import (FlashSaleCountdown, FlashSaleEnded, FlashSaleScheduled, FlashSaleSoldOut,
                                        FlashSaleStarted)
from livecommerce.rooms.events import RoomEnded, RoomStarted, StreamInterrupted, StreamResumed
from livecommerce.shared.events import DomainEvent

MODELS: dict[str, type[DomainEvent]] = {model.detail_type: model for model in (
    RoomStarted, StreamInterrupted, StreamResumed, RoomEnded,
    ProductListed, ProductUnlisted, StockChanged,
    FlashSaleScheduled, FlashSaleCountdown, FlashSaleStarted, FlashSaleSoldOut, FlashSaleEnded,
    CouponDropped, CouponDropExhausted,
    CostreamRequested, CostreamInvited, CostreamJoined, CostreamLeft, CostreamGuestMuted, CostreamLayoutChanged,
    PkStarted, PkScore, PkEnded,
    LotteryOpened, LotteryCountdown, LotteryClosed, LotteryDrawn, LotteryRedrawn,
)}
if set(MODELS) != set(BROADCAST_EVENTS):
    raise RuntimeError("interaction.consumed.MODELS and spec.BROADCAST_EVENTS list different event types")


class NotConsumed(LookupError):
    """A detail type interaction does not subscribe to."""


def model_of(detail_type: str) -> type[DomainEvent]:
    """The producer's model of a consumed event type."""
    try:
        return MODELS[detail_type]
    except KeyError:
        raise NotConsumed(detail_type) from None


def parse(detail_type: str, detail: dict[str, Any]) -> DomainEvent:
    """The detail as its producer's model; raises NotConsumed or pydantic's ValidationError."""
    return model_of(detail_type).parse(detail)

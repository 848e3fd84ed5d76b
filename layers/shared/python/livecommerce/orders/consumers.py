"""What orders does with other contexts' events (the order_events function).

RefundSucceeded / RefundFailed (payments): an after-sale refund's result moves the after-sale
(refunded / refund_failed) and the order (refunded or partially refunded; back to paid when a
refund before shipping failed), returning stock when the goods never left, once per refund id.
Refunds that are not an after-sale's (a duplicate or late payment going back) leave the order as
it is.
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from livecommerce.orders import fulfilment_service
from livecommerce.payments.events import RefundFailed, RefundSucceeded
from livecommerce.shared.observability import logger


def on_refund_succeeded(event: RefundSucceeded) -> dict[str, Any]:
    outcome = fulfilment_service.apply_refund_result(refund_id=event.refund_id, order_id=event.order_id,
                                                     after_sale_id=event.after_sale_id, amount=event.amount,
                                                     succeeded=True, refunded_at=event.refunded_at)
    return {"detail_type": "RefundSucceeded", "outcome": outcome}


def on_refund_failed(event: RefundFailed) -> dict[str, Any]:
    outcome = fulfilment_service.apply_refund_result(refund_id=event.refund_id, order_id=event.order_id,
                                                     after_sale_id=event.after_sale_id, amount=event.amount,
                                                     succeeded=False, provider_code=event.provider_code,
                                                     message=event.message)
    return {"detail_type": "RefundFailed", "outcome": outcome}


_HANDLERS = {"RefundSucceeded": (RefundSucceeded, on_refund_succeeded),
             "RefundFailed": (RefundFailed, on_refund_failed)}


def on_domain_event(event: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge delivery: the events orders subscribes to (spec.py), anything else ignored."""
    detail_type = event.get("detail-type")
    known = _HANDLERS.get(detail_type)
    if known is not None:
        model, handle = known
        try:
            parsed = model.parse(event.get("detail") or {})
        except ValidationError:
            logger.warning("an event that is not what it says; ignored",
                           extra={"event_id": event.get("id"), "detail_type": detail_type})
        else:
            return handle(parsed)
    return {"detail_type": detail_type, "ignored": True}

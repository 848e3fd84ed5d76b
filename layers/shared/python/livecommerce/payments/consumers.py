"""What payments does with orders' events (the refunds function): refund, once.

AfterSaleRefundApproved: refund the after-sale's amount (refund id from the after-sale id).
OrderRefundRequired: refund all the transaction took (refund id from channel, transaction, reason).
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from livecommerce.orders.events import AfterSaleRefundApproved, OrderRefundRequired
from livecommerce.payments import refunds
from livecommerce.shared.observability import logger

_CAUSES = {"AfterSaleRefundApproved": (AfterSaleRefundApproved, refunds.ask_for_after_sale),
           "OrderRefundRequired": (OrderRefundRequired, refunds.ask_for_required)}


def on_domain_event(event: dict[str, Any]) -> dict[str, Any]:
    detail_type = event.get("detail-type")
    if detail_type not in _CAUSES:
        return {"detail_type": detail_type, "ignored": True}
    model, ask_for = _CAUSES[detail_type]
    try:
        cause = model.parse(event.get("detail") or {})
        ask = ask_for(cause)
    except (ValidationError, TypeError, ValueError):
        logger.error("a refund cause that is not one; ignored", extra={"event_id": event.get("id"),
                                                                       "detail_type": detail_type})
        return {"detail_type": detail_type, "ignored": True}
    if ask.channel not in ("wechat", "alipay") or ask.amount <= 0:
        logger.error("a refund cause with no channel or amount; ignored", extra={
            "event_id": event.get("id"), "order_id": ask.order_id, "channel": ask.channel, "amount": ask.amount})
        return {"detail_type": detail_type, "ignored": True}
    item = refunds.refund(ask)
    return {"detail_type": detail_type, "refund_id": item.refund_id, "state": item.state}

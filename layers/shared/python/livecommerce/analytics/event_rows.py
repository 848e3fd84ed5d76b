"""A domain event (the EventBridge envelope) as a row of the store's `events` table.

On AWS the EventBridge rule's input transformer (cdk/stacks/analytics_stack.py, built from
EVENT_INPUT_PATHS below) reshapes each event into this row before Firehose; locally the event
delivery hands each event to `row()` and the local Firehose stand-in. Money: `amount_fen` is the
detail's `total` (orders) where it has one, else its `amount` (refunds, coupons); separate rules
on AWS pick one or the other by the detail's content (`AMOUNT_SOURCES`).
"""
from __future__ import annotations

import json
from typing import Any

# detail field -> the store column it fills (the same names on AWS and locally).
EVENT_INPUT_PATHS: dict[str, str] = {
    "event_id": "$.id", "type": "$.detail-type", "source": "$.source", "occurred_at": "$.time",
    "room_id": "$.detail.room_id", "user_id": "$.detail.user_id", "product_id": "$.detail.product_id",
    "order_id": "$.detail.order_id",
}
# In order: the first of these the detail has is the event's amount.
AMOUNT_SOURCES: tuple[str, ...] = ("total", "amount")


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def row(envelope: dict[str, Any]) -> dict[str, Any]:
    detail = envelope.get("detail") if isinstance(envelope.get("detail"), dict) else {}
    amount = next((detail[k] for k in AMOUNT_SOURCES if isinstance(detail.get(k), int)
                   and not isinstance(detail.get(k), bool)), None)
    return {
        # The outbox's own event id is stable across republishing (analytics.event_log does the same).
        "event_id": str(detail.get("event_id") or envelope.get("id") or ""),
        "type": str(envelope.get("detail-type") or ""), "source": str(envelope.get("source") or ""),
        "occurred_at": envelope.get("time"), "room_id": _text(detail.get("room_id")),
        "user_id": _text(detail.get("user_id")), "product_id": _text(detail.get("product_id")),
        "order_id": _text(detail.get("order_id")), "amount_fen": amount,
        "detail": json.dumps(detail, ensure_ascii=False, separators=(",", ":")),
    }

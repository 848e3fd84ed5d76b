"""A domain event (the EventBridge envelope) as a row of the store's `events` table.

One mapping, the same on AWS and locally: the `events` Firehose stream takes whole EventBridge
envelopes (the bus rule sends every domain event as it is, no input transformer; the realtime
batcher puts its like and danmaku facts in the same envelope shape), and the stream's
transformation step (`firehose_transform`: the `events_transform` Lambda on AWS, called by the
local Firehose stand-in too) turns each into this row, with its partition keys (dt, room_id).
An EventBridge input transformer cannot do it: it cannot turn the detail object into the JSON text
of the `detail` column, nor choose `total` or else `amount` for `amount_fen`.

Money: `amount_fen` is the detail's `total` (orders) where it has one, else its `amount`
(refunds, coupons). Times: `occurred_at` is epoch milliseconds (what the Parquet conversion reads
with its "millis" timestamp format).
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import Any

from livecommerce.analytics.store_schema import NO_ROOM, day_of, partition_room

# In order: the first of these the detail has is the event's amount.
AMOUNT_SOURCES: tuple[str, ...] = ("total", "amount")
# The partition keys the transformation hands Firehose (prefix `!{partitionKeyFromLambda:<key>}`).
PARTITION_KEYS: tuple[str, ...] = ("dt", "room_id")


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def epoch_ms(value: Any) -> int | None:
    """Epoch milliseconds from epoch ms or ISO 8601 (EventBridge's `time`, the outbox's occurred_at)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


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


class NotAnEvent(ValueError):
    """A record the transformation refuses (Firehose writes it under the error prefix)."""


def stored_row(envelope: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(the row as the stream writes it, its partition keys), or NotAnEvent: an envelope needs an
    id, a detail-type, a time and an object detail; a room id must be a valid partition value."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("detail"), dict):
        raise NotAnEvent("not an EventBridge event with an object detail")
    made = row(envelope)
    millis = epoch_ms(made["occurred_at"])
    if not made["event_id"] or not made["type"] or millis is None:
        raise NotAnEvent("an event needs an id, a detail-type and a time")
    try:
        room = partition_room(made["room_id"])
    except ValueError as exc:
        raise NotAnEvent(str(exc)) from None
    made["occurred_at"] = millis
    return made, {"dt": day_of(millis), "room_id": room}


def firehose_transform(event: dict[str, Any]) -> dict[str, Any]:
    """Firehose's data-transformation contract: {"records": [{"recordId", "data" (base64)}]} in,
    every record back with its result ("Ok" with the row and partition keys, or
    "ProcessingFailed", which Firehose writes under the stream's error prefix)."""
    out = []
    for record in event.get("records") or []:
        record_id = record.get("recordId")
        try:
            envelope = json.loads(base64.b64decode(record.get("data") or "", validate=True))
            made, keys = stored_row(envelope)
        except (NotAnEvent, binascii.Error, ValueError, TypeError):   # JSONDecodeError is a ValueError
            out.append({"recordId": record_id, "result": "ProcessingFailed", "data": record.get("data") or ""})
            continue
        data = (json.dumps(made, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        out.append({"recordId": record_id, "result": "Ok", "data": base64.b64encode(data).decode(),
                    "metadata": {"partitionKeys": keys}})
    return {"records": out}


def envelope(*, event_id: str, detail_type: str, source: str, time: str, detail: dict[str, Any]) -> dict[str, Any]:
    """An EventBridge-shaped envelope for a fact that is not put on the bus (likes, danmaku)."""
    return {"version": "0", "id": event_id, "detail-type": detail_type, "source": source, "time": time,
            "resources": [], "detail": detail}


__all__ = ["AMOUNT_SOURCES", "NO_ROOM", "NotAnEvent", "PARTITION_KEYS", "envelope", "epoch_ms",
           "firehose_transform", "row", "stored_row"]

"""Likes and danmaku for the analytics store, from the interaction table's DynamoDB stream.

No EventBridge event per like or message: the realtime batcher receives the stream records of
the per-user like counters (`RATE#<room>#<user>` / `LIKES#<window>`, one change per accepted
like request, whose delta is the likes accepted) and of the stored messages (`DM#<room>#<shard>` /
`MSG#<id>` inserts), and `facts` turns one batch of them into analytics facts:

- LikesAdded: one per (room, user, minute) of the batch, `count` = the sum of the deltas; its id
  is derived from the stream records it sums, so the same batch retried gives the same ids;
- DanmakuSent: one per message, its id the message id.

Pure: no I/O. Records of any other item, removals (TTL) and counter changes that did not add
are ignored.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Iterable

from livecommerce.analytics import DanmakuSent, LikesAdded, StoreFact

LIKE_COUNTER_PREFIX = "RATE#"
LIKE_WINDOW_PREFIX = "LIKES#"
MESSAGE_PREFIX = "DM#"


def _value(attr: Any) -> Any:
    if not isinstance(attr, dict) or len(attr) != 1:
        return None
    (kind, raw), = attr.items()
    if kind == "N":
        try:
            return int(raw) if str(raw).lstrip("-").isdigit() else float(raw)
        except ValueError:
            return None
    if kind == "BOOL":
        return bool(raw)
    return raw if kind == "S" else None


def _image(record: dict[str, Any], which: str) -> dict[str, Any]:
    image = (record.get("dynamodb") or {}).get(which) or {}
    return {k: _value(v) for k, v in image.items()} if isinstance(image, dict) else {}


def record_ms(record: dict[str, Any], default_ms: int) -> int:
    """The stream record's time (ApproximateCreationDateTime: epoch seconds on AWS)."""
    at = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        return int(at * 1000)
    if isinstance(at, datetime):
        return int((at if at.tzinfo else at.replace(tzinfo=timezone.utc)).timestamp() * 1000)
    if isinstance(at, str):
        try:
            parsed = datetime.fromisoformat(at.replace("Z", "+00:00"))
            return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp() * 1000)
        except ValueError:
            pass
    return default_ms


def _like_delta(record: dict[str, Any]) -> tuple[str, str, int] | None:
    keys = _image(record, "Keys")
    pk, sk = str(keys.get("pk") or ""), str(keys.get("sk") or "")
    if not pk.startswith(LIKE_COUNTER_PREFIX) or not sk.startswith(LIKE_WINDOW_PREFIX) \
            or record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    parts = pk.split("#", 2)
    if len(parts) != 3 or not parts[1] or not parts[2]:
        return None
    new, old = _image(record, "NewImage").get("n"), _image(record, "OldImage").get("n")
    if not isinstance(new, int):
        return None
    delta = new - (old if isinstance(old, int) else 0)
    return (parts[1], parts[2], delta) if delta > 0 else None


def _message(record: dict[str, Any]) -> DanmakuSent | None:
    keys = _image(record, "Keys")
    if not str(keys.get("pk") or "").startswith(MESSAGE_PREFIX) or record.get("eventName") != "INSERT":
        return None
    item = _image(record, "NewImage")
    room_id, user_id, message_id, at_ms = item.get("room_id"), item.get("user_id"), item.get("message_id"), \
        item.get("at_ms")
    if not all(isinstance(v, str) and v for v in (room_id, user_id, message_id)) or not isinstance(at_ms, int):
        return None
    return DanmakuSent(fact_id=message_id, room_id=room_id, user_id=user_id, at_ms=at_ms,
                       message_id=message_id, kind=item.get("kind") if isinstance(item.get("kind"), str) else None,
                       host=bool(item.get("priority")))


def facts(records: Iterable[dict[str, Any]], *, now_ms: int) -> list[StoreFact]:
    likes: dict[tuple[str, str, int], list[tuple[int, int, str]]] = {}
    out: list[StoreFact] = []
    for record in records:
        message = _message(record)
        if message is not None:
            out.append(message)
            continue
        delta = _like_delta(record)
        if delta is None:
            continue
        room_id, user_id, count = delta
        at = record_ms(record, now_ms)
        likes.setdefault((room_id, user_id, at // 60_000), []).append(
            (at, count, str(record.get("eventID") or f"{room_id}:{user_id}:{at}:{count}")))
    for (room_id, user_id, _minute), parts in likes.items():
        digest = hashlib.sha256("|".join(sorted(p[2] for p in parts)).encode()).hexdigest()[:32]
        out.append(LikesAdded(fact_id=f"likes-{digest}", room_id=room_id, user_id=user_id,
                              at_ms=min(p[0] for p in parts), count=sum(p[1] for p in parts)))
    return out

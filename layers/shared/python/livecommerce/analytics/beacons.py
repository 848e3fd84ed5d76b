"""Behaviour beacons: the batch a player posts to `POST /v1/rooms/{room_id}/events`, and the rules.

No Lambda runs per beacon. On AWS the route is an API Gateway AWS service integration to
Firehose PutRecordBatch: the request validator checks the body against `request_schema()`
(derived from `BeaconBatch`, so the model and the gateway's schema are one source), the
beacon authorizer (cached per login token and playback token) decides who may post for which
room, and the mapping template stamps server time, viewer and address and refuses a batch with
a time out of bounds or more heartbeats than a player sends. The local gateway does the same
with `records()` below. Rates no single batch shows (many batches, many accounts) are excluded
at query time (sql/views/viewer_verdicts.sql).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from livecommerce.analytics.store_schema import BEACON_KINDS

MAX_BATCH = 20                  # beacons per request (a player flushes at least once a minute)
MAX_HEARTBEATS_PER_BATCH = 4    # one heartbeat every 30 s: 2 a minute, 2 more for a reconnect
MAX_PAST_SKEW_MS = 10 * 60_000  # client time at most 10 minutes behind the server (offline buffer)
MAX_FUTURE_SKEW_MS = 60_000     # and at most a minute ahead (clock drift)
# The header a player sends with each batch: the playback token of this room from
# GET /v1/rooms/{room_id}/playback, or "none:<room_id>" (a replay, or no token yet).
PLAYBACK_TOKEN_HEADER = "X-Playback-Token"
NO_TOKEN_PREFIX = "none:"

_ID = r"^[A-Za-z0-9_.:-]{0,64}$"

Kind = Literal["enter", "heartbeat", "leave", "card_impression", "product_click", "share_click", "replay_watch"]


class Beacon(BaseModel):
    """One client event. Times are epoch milliseconds on the client's clock."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    client_ms: int = Field(strict=True, ge=1_600_000_000_000, le=4_102_444_800_000,
                           description="client time, epoch ms (at most 10 min behind or 1 min ahead "
                                       "of the server: code beacon_rejected)")
    play_id: str = Field(pattern=_ID, min_length=1, description="player session id (one per player start)")
    device_id: str = Field("", pattern=_ID)
    product_id: str = Field("", pattern=_ID, description="card_impression and product_click")
    position_s: int = Field(0, strict=True, ge=0, le=86_400, description="replay position (replay_watch)")


class BeaconBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[Beacon] = Field(min_length=1, max_length=MAX_BATCH)
    realtime: bool = Field(False, strict=True, description="the client holds a live realtime connection")


assert tuple(Kind.__args__) == BEACON_KINDS  # type: ignore[attr-defined]


def request_schema() -> dict[str, Any]:
    """The JSON Schema (draft 4, API Gateway's dialect) of BeaconBatch, $defs inlined."""
    schema = BeaconBatch.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items() if k not in ("title", "description", "default")}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    out = inline(schema)
    out["$schema"] = "http://json-schema.org/draft-04/schema#"
    return out


@dataclass(frozen=True)
class Stamp:
    """What the gateway adds: never taken from the body."""

    request_id: str
    received_ms: int
    room_id: str
    viewer_id: str
    source_ip: str
    playback_token: bool


class BatchRejected(ValueError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


REJECTED_DETAIL = (f"a beacon's client_ms is more than {MAX_PAST_SKEW_MS // 1000} s behind or "
                   f"{MAX_FUTURE_SKEW_MS // 1000} s ahead of the server, or the batch has more than "
                   f"{MAX_HEARTBEATS_PER_BATCH} heartbeats")


def records(batch: BeaconBatch, stamp: Stamp) -> list[dict[str, Any]]:
    """The store records of a validated batch (one per beacon), or BatchRejected for the whole
    batch: nothing of a refused batch is counted. The mapping template (beacon_template.vtl)
    applies the same rules on AWS."""
    heartbeats = sum(1 for b in batch.events if b.kind == "heartbeat")
    if heartbeats > MAX_HEARTBEATS_PER_BATCH:
        raise BatchRejected(REJECTED_DETAIL)
    for b in batch.events:
        if not stamp.received_ms - MAX_PAST_SKEW_MS <= b.client_ms <= stamp.received_ms + MAX_FUTURE_SKEW_MS:
            raise BatchRejected(REJECTED_DETAIL)
    return [{
        "request_id": stamp.request_id, "seq": i, "received_at": stamp.received_ms,
        "client_at": b.client_ms, "room_id": stamp.room_id, "viewer_id": stamp.viewer_id, "kind": b.kind,
        "product_id": b.product_id or None, "play_id": b.play_id, "device_id": b.device_id or None,
        "source_ip": stamp.source_ip, "playback_token": stamp.playback_token, "realtime": batch.realtime,
        "position_s": b.position_s if b.kind == "replay_watch" else None,
    } for i, b in enumerate(batch.events)]

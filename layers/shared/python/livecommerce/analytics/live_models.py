"""The live figures' shapes (GET /v1/rooms/{room_id}/stats/live and the host's push)."""
from __future__ import annotations

from pydantic import BaseModel, Field


class LiveMinute(BaseModel):
    minute: str = Field(description="UTC minute, ISO 8601")
    online: int = Field(description="Most viewers online seen in the minute (sampled every 5 s)")
    orders: int = Field(description="Orders paid in the minute")
    gmv: int = Field(description="Fen paid in the minute")


class LiveStats(BaseModel):
    room_id: str
    online: int = Field(description="Viewers online now (realtime connections subscribed to the room)")
    peak_online: int = Field(description="Most viewers online at once so far")
    peak_at: str | None = None
    cumulative_viewers: int = Field(description="Different viewers who joined so far")
    orders: int = Field(description="Orders paid so far")
    gmv: int = Field(description="Fen paid so far")
    per_minute: list[LiveMinute]
    at: str = Field(description="When these figures were read (UTC)")

"""The domain events analytics emits: one model per type in spec.py `emits`."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from livecommerce.shared.events import DomainEvent

# At most this many viewers per event (a chunk of ~500 viewers is ~25 KB, well under
# EventBridge's 256 KB entry limit).
WATCH_CHUNK = 500


class WatchTime(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: str
    seconds: int                      # accepted watch time in the room (30 s per accepted heartbeat)


class ViewerWatchTimes(DomainEvent):
    """Per-viewer watch time of a room's accepted viewers (fake traffic excluded), published once
    per room when its post-live report is first computed, in chunks `chunk` of `chunks` (1-based).
    Each chunk's event_id is stable (`watch-<room_id>-<chunk>`): a consumer (engagement's
    watch-time points) keeps the ids it applied, so a redelivery or a re-publish changes nothing."""

    room_id: str
    host_id: str
    chunk: int
    chunks: int
    viewers: list[WatchTime]

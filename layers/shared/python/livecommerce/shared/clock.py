"""UTC time helpers: ISO 8601 in the API, epoch seconds for TTLs. "Now" comes from
the clock port (livecommerce.shared.ports), so a test can set it."""
from __future__ import annotations

from datetime import datetime, timezone

from livecommerce.shared import ports


def utcnow() -> datetime:
    return ports.get().clock.now()


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def now_iso() -> str:
    return iso(utcnow())

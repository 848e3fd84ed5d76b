"""A speaker's danmaku state in one room, and the rules that read it (pure, no I/O).

The sender's standing (ban, mute), rate window and recent texts live on one item
(`ROOM#<room>` / `MOD#<user>`, the moderation item), so a message costs one read of it
(together with the other reads of the send path) and one conditional write back
(`v`, the item's version, must not have moved since the read: a mute, a ban or the
same user's concurrent message in between makes the write fail and the caller reads
again). The decision below is the whole rule; the write only makes it atomic.

Semantics kept from the counters it replaces: the rate limit is a fixed window of
`window_seconds` counting every attempt that passed the standing and the limit
(a refused duplicate counts, as before); a duplicate is the same text key within
`duplicate_seconds` of the last accepted one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livecommerce.interaction.limits import window_index

OK = "ok"
BANNED = "banned"
MUTED = "muted"
RATE_LIMITED = "rate_limited"
DUPLICATE = "duplicate_message"

# The state holds a short prefix of the text key: enough to tell a user's few recent
# texts apart, and the item stays at one write unit (a viewer holds at most
# limit * duplicate_seconds / window_seconds keys: 18 by default, hosts 60).
KEY_CHARS = 16


@dataclass(frozen=True)
class Speech:
    window: int | None = None
    count: int = 0
    recent: dict[str, int] = field(default_factory=dict)      # text key -> held until (epoch s)

    def to_json(self) -> dict[str, Any]:
        return {"w": self.window, "n": self.count, "r": dict(self.recent)}

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> "Speech":
        if not raw:
            return cls()
        window = raw.get("w")
        return cls(window=int(window) if window is not None else None, count=int(raw.get("n") or 0),
                   recent={str(k): int(v) for k, v in (raw.get("r") or {}).items()})


@dataclass(frozen=True)
class Verdict:
    outcome: str
    speech: Speech | None          # the state to write back (None: nothing to write)


def standing(*, banned: bool, muted_until: float | None, now_s: float) -> str:
    if banned:
        return BANNED
    if muted_until and muted_until > now_s:
        return MUTED
    return OK


def decide(speech: Speech, *, now_s: float, text_key: str, limit: int, window_seconds: int,
           duplicate_seconds: int) -> Verdict:
    """Rate first (nothing written when the window is full), then duplicates (the attempt
    counts, the text is not held again), else accepted: counted and held."""
    window = window_index(now_s, window_seconds)
    count = speech.count if speech.window == window else 0
    if count >= limit:
        return Verdict(RATE_LIMITED, None)
    now = int(now_s)
    key = text_key[:KEY_CHARS]
    recent = {k: until for k, until in speech.recent.items() if until >= now}
    if key in recent:
        return Verdict(DUPLICATE, Speech(window=window, count=count + 1, recent=recent))
    recent[key] = now + duplicate_seconds
    return Verdict(OK, Speech(window=window, count=count + 1, recent=recent))

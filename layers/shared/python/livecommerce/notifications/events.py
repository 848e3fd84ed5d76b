"""The domain events notifications emits: one model per type in spec.py `emits`."""
from __future__ import annotations

from livecommerce.shared.events import DomainEvent


class NoticeRunCompleted(DomainEvent):
    """One run of a notice's state machine finished: how many were sent, skipped (consent,
    unsubscribed, frequency cap, no address, reservation gone) and failed."""

    kind: str
    room_id: str | None = None
    reason: str
    sent: int
    skipped: int
    failed: int
    duplicate: int = 0               # already sent or settled by an earlier run of the same reason
    skipped_consent: int = 0         # of `skipped`: no consent for the kind, unsubscribed, revoked (post-live kinds)
    replay_linked: bool | None = None   # post-live kinds: sent with the replay link (false: no replay in time)


EVENTS = (NoticeRunCompleted,)

"""The domain events the media context emits: co-streaming and PK state changes.
Each carries `room_id`, so interaction's broadcasts function puts it on the room's
`events` topic (interaction.spec.BROADCAST_EVENTS). A PK event goes out once for
each of the two rooms."""
from __future__ import annotations

from livecommerce.shared.events import DomainEvent


class CostreamRequested(DomainEvent):
    room_id: str
    request_id: str
    display_name: str


class CostreamInvited(DomainEvent):
    room_id: str
    request_id: str
    invitee_id: str
    display_name: str


class CostreamJoined(DomainEvent):
    room_id: str
    request_id: str
    display_name: str
    on_stage: int                       # guests publishing now


class CostreamLeft(DomainEvent):
    room_id: str
    request_id: str
    display_name: str
    reason: str                         # declined, hung_up, removed, room_ended
    on_stage: int


class CostreamGuestMuted(DomainEvent):
    room_id: str
    request_id: str
    display_name: str


class CostreamLayoutChanged(DomainEvent):
    room_id: str
    layout: str                         # grid, pip, off
    composition: str                    # starting, active, stopped, failed


class PkStarted(DomainEvent):
    room_id: str
    pk_id: str
    other_room_id: str
    rule: str                           # likes, sales
    ends_at: str


class PkScore(DomainEvent):
    room_id: str
    pk_id: str
    other_room_id: str
    score: int                          # this room's
    other_score: int


class PkEnded(DomainEvent):
    room_id: str
    pk_id: str
    other_room_id: str
    score: int
    other_score: int
    outcome: str                        # won, lost, draw, cancelled


class ReplayReady(DomainEvent):
    """The room's replay is playable (the replay state machine published it)."""

    room_id: str
    playlist_url: str
    duration_seconds: float
    timeline_entries: int
    clips: int                          # per-product clips made with it
    recording_started_at: str

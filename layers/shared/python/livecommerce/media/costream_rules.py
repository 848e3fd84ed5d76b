"""Co-streaming and PK rules: pure, no I/O (tests/unit/media/test_costream_rules.py).

Seats. Every guest on a room's stage holds a seat. A seat starts as an
`application` (a viewer applied) or an `invitation` (the host invited someone),
both `pending`; it becomes `on_stage` when the host accepts the application or
the invitee accepts the invitation, `muted` when the host mutes the guest, and
`ended` (declined, hung up, removed, or the room ended). Only `on_stage` seats
publish. The host publishes too, so at most PUBLISHER_LIMIT - 1 guests are on
stage (IVS: 12 publishers per stage); the 13th is refused with 409 `stage_full`.

PK. Two live rooms link for a window of PK_MIN_SECONDS..PK_MAX_SECONDS; the score
is likes (each room's like total since the start) or sales (paid order totals in
fen in the window). Scores are broadcast at most once a second, the result at the end.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from livecommerce.shared import problems

PUBLISHER_LIMIT = 12            # IVS real-time: publishers per stage (hard quota)
SUBSCRIBER_LIMIT = 25_000       # IVS real-time: participants per stage (hard quota, subscribers included)
TOKEN_MINUTES = 10              # participant tokens: short lived (IVS counts duration in minutes, 1..20160)
PK_MIN_SECONDS = 30
PK_MAX_SECONDS = 600
SCORE_INTERVAL_MS = 1000        # a PK score at most once a second per PK
PENDING_LIMIT = 50              # open applications and invitations per room

SeatKind = Literal["application", "invitation"]
SeatState = Literal["pending", "on_stage", "muted", "ended"]
Layout = Literal["grid", "pip"]
ScoreRule = Literal["likes", "sales"]
Capability = Literal["PUBLISH", "SUBSCRIBE"]

PUBLISHING = frozenset({"on_stage"})
OPEN = frozenset({"pending", "on_stage", "muted"})


class StageFull(problems.Conflict):
    status, code, title = 409, "stage_full", "The stage already has its 12 publishers"


def stage_full(on_stage_guests: int) -> StageFull:
    return StageFull(f"At most {PUBLISHER_LIMIT} publishers are on screen (the host and "
                     f"{PUBLISHER_LIMIT - 1} guests); {on_stage_guests} guests are on stage. "
                     "Remove a guest first.", retryable=False)


def can_take_seat(on_stage_guests: int) -> bool:
    """Whether one more guest may publish: the host is the first of the PUBLISHER_LIMIT."""
    return on_stage_guests + 1 <= PUBLISHER_LIMIT - 1


def not_live(room_id: str, status: str) -> problems.Conflict:
    return problems.Conflict(f"The room is {status}, not live: co-streaming and PK need a live room.",
                             code="room_not_live", room_id=room_id)


def require_live(room_id: str, status: str) -> None:
    if status != "live":
        raise not_live(room_id, status)


def accept_check(*, kind: SeatKind, state: str, seat_room: str, room_id: str, caller_id: str,
                 invitee_id: str, caller_runs_room: bool) -> None:
    """Who may accept which seat: an application by the room's host, an invitation by its invitee,
    and only in the seat's own room; only a pending seat."""
    if seat_room != room_id:
        raise problems.NotFound("No such co-stream request in this room.", code="costream_request_not_found")
    if kind == "application" and not caller_runs_room:
        raise problems.Forbidden("Only the room's host accepts an application.", code="not_room_host")
    if kind == "invitation" and caller_id != invitee_id:
        raise problems.Forbidden("Only the invited user accepts an invitation.", code="not_invitee")
    if state != "pending":
        raise problems.Conflict(f"The request is {state}, not pending.", code="costream_request_closed",
                                state=state)


def hangup_check(*, seat_room: str, room_id: str, state: str, caller_id: str, seat_user: str,
                 caller_runs_room: bool) -> None:
    if seat_room != room_id:
        raise problems.NotFound("No such co-stream request in this room.", code="costream_request_not_found")
    if not caller_runs_room and caller_id != seat_user:
        raise problems.Forbidden("Only the host or the guest themselves ends a co-stream.",
                                 code="not_costream_party")
    if state == "ended":
        raise problems.Conflict("The co-stream has already ended.", code="costream_request_closed", state=state)


def capabilities(state: str) -> tuple[Capability, ...]:
    """What a seat's participant token may do: publish and subscribe on stage, subscribe only when muted."""
    if state in PUBLISHING:
        return ("PUBLISH", "SUBSCRIBE")
    if state == "muted":
        return ("SUBSCRIBE",)
    raise problems.Conflict("The co-stream is not open; no stage token.", code="costream_request_closed",
                            state=state)


def participant_attributes(*, room_id: str, seat_id: str, role: str, display_name: str) -> dict[str, str]:
    """Token attributes (IVS: at most 1 KB in total, visible to every participant): no personal data
    beyond the display name; `role` orders the composition (host first) and picks the pip's big picture."""
    return {"room_id": room_id, "seat_id": seat_id, "role": role, "name": display_name[:64],
            "order": "0" if role == "host" else "1", "featured": "true" if role == "host" else "false"}


def layout_configuration(layout: Layout) -> dict:
    """StartComposition's `layout` (botocore ivs-realtime LayoutConfiguration)."""
    if layout == "grid":
        return {"grid": {"featuredParticipantAttribute": "featured", "participantOrderAttribute": "order",
                         "omitStoppedVideo": True, "videoFillMode": "COVER", "gridGap": 2}}
    return {"pip": {"pipParticipantAttribute": "pip", "featuredParticipantAttribute": "featured",
                    "participantOrderAttribute": "order", "omitStoppedVideo": True, "videoFillMode": "COVER",
                    "pipBehavior": "STATIC", "pipPosition": "BOTTOM_RIGHT", "pipOffset": 16, "gridGap": 0}}


# ------------------------------------------------------------------------------- PK

def pk_duration_check(seconds: int) -> None:
    if not PK_MIN_SECONDS <= seconds <= PK_MAX_SECONDS:
        raise problems.ValidationFailed(f"A PK lasts {PK_MIN_SECONDS} to {PK_MAX_SECONDS} seconds.",
                                        code="pk_duration")


def pk_pair_check(room_id: str, other_room_id: str) -> None:
    if room_id == other_room_id:
        raise problems.BadRequest("A room cannot PK with itself.", code="pk_same_room")


@dataclass(frozen=True)
class Score:
    a: int
    b: int

    def leader(self) -> str:
        return "a" if self.a > self.b else "b" if self.b > self.a else "draw"


def likes_score(total_now: int, baseline: int) -> int:
    """Likes in the window: the like total minus the total at the start (never negative)."""
    return max(0, total_now - baseline)


def result(score: Score, room_a: str, room_b: str) -> dict:
    leader = score.leader()
    return {"winner_room_id": room_a if leader == "a" else room_b if leader == "b" else None,
            "draw": leader == "draw", "score_a": score.a, "score_b": score.b}


def should_publish(last_published_ms: int | None, now_ms: int, changed: bool) -> bool:
    """Coalescing: publish a changed score when the last one is at least SCORE_INTERVAL_MS old."""
    if not changed:
        return False
    return last_published_ms is None or now_ms - last_published_ms >= SCORE_INTERVAL_MS

"""Pure rules of the post-live notices, shipping notices and new-room previews (no I/O).

- When a room's post-live runs start: once the room has ended AND its replay is ready, after the
  analytics store has settled (Firehose buffers `settle` seconds); when no replay arrives within
  REPLAY_WAIT of the end, at that bound, without the link (the run records `replay_missing`).
- Which channel a notice of a consent kind goes by: the viewer's one-time subscribe-message
  consent for the kind, else SMS where the viewer's reservation of the room allowed it (a phone);
  unsubscribing wins.
- The preview audience: the host's tag rule over each viewer's sessions (analytics tags).
- How a run's results add up (sent / skipped for consent / other skips / failed / duplicate).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from livecommerce.notifications import rules

REPLAY_WAIT = timedelta(minutes=30)
SETTLE = timedelta(seconds=120)
AUDIENCE_PAGE = 1000            # rows a page of notice_non_buyers / notice_buyers (their LIMIT)
PREVIEW_PAGE_ROWS = 2000        # rows a page of notice_preview_audience (its LIMIT)

# The state machine of each audience kind (StateMachineSpec keys) and its schedule's name part.
MACHINE_OF = {"non_buyer": "non_buyer_notice", "order_summary": "order_summary_notice",
              "new_room_preview": "room_preview_notice"}
QUERY_OF = {"non_buyer": "notice_non_buyers", "order_summary": "notice_buyers",
            "new_room_preview": "notice_preview_audience"}

SKIPPED_NOT_FOLLOWER = "skipped_not_follower"
SKIPPED_ROOM_TEST = "skipped_test_room"
CONSENT_OUTCOMES = (rules.SKIPPED_CONSENT, rules.SKIPPED_CONSENT_REVOKED)
BUCKETS = ("sent", "skipped_consent", "skipped", "failed", "duplicate")


def post_live_start(*, ended_at: datetime, replay_ready: bool, now: datetime,
                    settle: timedelta = SETTLE, wait: timedelta = REPLAY_WAIT) -> datetime:
    """When the post-live runs of a room that ended at `ended_at` start."""
    if replay_ready:
        return max(now, ended_at + settle)
    return max(now, ended_at + max(wait, settle))


def schedule_name(room_id: str, kind: str) -> str:
    """room-<room>-non-buyer, room-<room>-order-summary, room-<room>-new-room-preview."""
    return rules.schedule_name(room_id, kind)


@dataclass(frozen=True)
class KindConsent:
    """What a viewer allows for one notice kind."""
    grants_left: int                  # one-time subscribe-message consents left for the kind
    unsubscribed_subscribe: bool = False
    sms: bool = False                 # the viewer's reservation of the room allowed SMS
    has_phone: bool = False
    unsubscribed_sms: bool = False


def channel_for(consent: KindConsent) -> str | None:
    if consent.grants_left > 0 and not consent.unsubscribed_subscribe:
        return rules.SUBSCRIBE
    if consent.sms and consent.has_phone and not consent.unsubscribed_sms:
        return rules.SMS
    return None


def bucket_of(outcome: str) -> str:
    if outcome == rules.SENT:
        return "sent"
    if outcome == "duplicate":
        return "duplicate"
    if outcome in CONSENT_OUTCOMES:
        return "skipped_consent"
    if outcome in (rules.FAILED, rules.RETRYING, rules.SENDING):
        return "failed"
    return "skipped"


def tally(totals: Mapping[str, int] | None, results: Iterable[Mapping[str, Any] | None]) -> dict[str, int]:
    out = {name: int((totals or {}).get(name, 0)) for name in BUCKETS}
    for result in results:
        out[bucket_of(str((result or {}).get("outcome", rules.FAILED)))] += 1
    return out


def preview_page(rows: list[Mapping[str, Any]], tags: Iterable[str], *, page_rows: int = PREVIEW_PAGE_ROWS,
                 facts_type: Callable[..., Any], tags_of: Callable[[Any], list[str]]
                 ) -> tuple[list[str], str | None]:
    """The viewers of one page of notice_preview_audience (rows per viewer and session, ordered by
    viewer then session start; a follower who never watched has one row without a room) who carry
    one of `tags` in one of the host's sessions (no tags: every viewer and follower), and the cursor
    (the last viewer whose rows were complete; None at the end).
    A full page may end inside a viewer's rows: that viewer is left to the next page."""
    wanted = set(tags)
    by_viewer: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_viewer.setdefault(str(row["user_id"]), []).append(row)
    viewers = list(by_viewer)
    full = len(rows) >= page_rows
    if full and len(viewers) > 1:
        viewers = viewers[:-1]            # its rows may continue on the next page
    chosen: list[str] = []
    for viewer in viewers:
        sessions = by_viewer[viewer]
        earlier_watched = earlier_paid = 0
        keep = not wanted
        for row in sessions:              # in session order: "earlier" is the rows before
            if row.get("room_id") is None:    # a follower who never watched: no session, no tag
                continue
            facts = facts_type(watch_seconds=int(row.get("watch_seconds") or 0),
                               product_clicks=int(row.get("product_clicks") or 0),
                               orders=int(row.get("orders") or 0), paid_orders=int(row.get("paid_orders") or 0),
                               coupon_orders=int(row.get("coupon_orders") or 0),
                               lottery_entries=int(row.get("lottery_entries") or 0),
                               earlier_sessions_watched=earlier_watched, earlier_paid_orders=earlier_paid)
            if wanted & set(tags_of(facts)):
                keep = True
            earlier_watched += 1
            earlier_paid += int(row.get("paid_orders") or 0)
        if keep:
            chosen.append(viewer)
    cursor = viewers[-1] if full and viewers else None
    return chosen, cursor


def page_cursor(rows: list[Mapping[str, Any]], page: int = AUDIENCE_PAGE) -> str | None:
    """The next page's cursor of a keyset-paged audience query: the last user id of a full page."""
    return str(rows[-1]["user_id"]) if len(rows) >= page else None

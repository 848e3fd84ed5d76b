"""Points for taking part: every award goes through the daily caps (engagement.participation) and
then marketing's points ledger (marketing.award_points, once per ref). No HTTP here.

An award is decided once per (viewer, ref): the decision item and the day's counters are one
transaction whose counters must still hold what was read (a concurrent award of the same viewer
makes it retry with the new figures), so the caps hold under any concurrency. Then the ledger
entry is written under the same ref. A crash between the two is mended by the redelivery: it finds
the decision and writes the ledger entry (idempotent by ref), never a second decision.
"""
from __future__ import annotations

from datetime import datetime

from livecommerce import marketing
from livecommerce.engagement import participation as rules, points_storage as store
from livecommerce.shared import problems
from livecommerce.shared.clock import utcnow
from livecommerce.shared.observability import logger
from livecommerce.shared.tx import TxCancelled

ATTEMPTS = 8


def award(user_id: str, rule: str, requested: int, *, ref: str, now: datetime | None = None) -> int:
    """Points granted for this taking part (0 past a cap, or when `ref` was decided before at 0)."""
    if rule not in rules.RULES:
        raise ValueError(f"unknown participation rule {rule!r}")
    if requested <= 0:
        return 0
    now = now or utcnow()
    day = rules.day_of(now)
    for _ in range(ATTEMPTS):
        claim = store.get_claim(user_id, ref)
        if claim is not None:
            granted = int(claim.granted)
            break
        by_rule, total = store.used(user_id, day, rule)
        granted = rules.grant(rule, requested, used_by_rule=by_rule, used_in_total=total)
        try:
            store.claim_tx(user_id, ref, rule, day, granted, used_by_rule=by_rule, used_in_total=total,
                           now_epoch=int(now.timestamp())).commit()
            break
        except TxCancelled as exc:
            if "claim" in exc or "rule" in exc or "total" in exc:
                continue                   # decided meanwhile, or a concurrent award moved a counter
            raise
    else:
        raise problems.Conflict("Too many concurrent awards; retry.", code="concurrent_update", retryable=True)
    if granted > 0:
        marketing.award_points(user_id, granted, reason=rule, ref=ref)
    return granted


def award_watch_times(room_id: str, viewers: list[tuple[str, int]], *, now: datetime | None = None) -> int:
    """analytics' ViewerWatchTimes: each viewer's watch-time points for the room, once per room."""
    # A failure raises: the redelivery awards the rest (the ones done are decided: nothing twice).
    return sum(award(user_id, "watch_time", rules.watch_points(seconds), ref=f"watch:{room_id}", now=now)
               for user_id, seconds in viewers)


def award_share_arrival(room_id: str, sharer_id: str, invitee_id: str, *, now: datetime | None = None) -> int:
    """marketing's ShareArrived: the sharer earns for each viewer arriving through their code, once."""
    if sharer_id == invitee_id:
        return 0
    return award(sharer_id, "share", rules.SHARE_POINTS, ref=f"share:{room_id}:{invitee_id}", now=now)


def award_lottery_entry(lottery_id: str, user_id: str, *, now: datetime | None = None) -> int:
    """An accepted lottery entry (engagement.service.enter); best effort: the entry stands regardless."""
    try:
        return award(user_id, "lottery_entry", rules.LOTTERY_ENTRY_POINTS, ref=f"lottery:{lottery_id}", now=now)
    except Exception:  # noqa: BLE001 - points are a bonus: a failure here must not fail the entry
        logger.exception("lottery entry points not awarded", extra={"lottery_id": lottery_id})
        return 0

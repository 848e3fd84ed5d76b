"""The engagement clock's work: lottery steps at their second (timers) and every minute."""
from __future__ import annotations

from datetime import datetime

from livecommerce.engagement import polls, repository, service
from livecommerce.shared import timers
from livecommerce.shared.clock import utcnow
from livecommerce.shared.observability import logger


def run_lottery_step(lottery_id: str, now: datetime) -> timers.StepResult:
    """A timer's step. The next step's timer is asked for here (on the engagement clock), so
    shared.timers.run is handed no next step once one ran (it would ask commerce_timers)."""
    ran, next_at = service.run_step(lottery_id, now)
    if ran is None:
        return timers.StepResult(None, next_at)
    service.request_timer(lottery_id, next_at, now=utcnow())
    return timers.StepResult(ran, None)


def tick(now: datetime | None = None) -> dict[str, int]:
    """Every minute: steps whose timer was lost, timers for the next minute's, the outbox."""
    now = now or utcnow()
    ran = asked = failed = 0
    for item in repository.due_lotteries(now.timestamp() + timers.TIMER_LEAD_SECONDS):
        try:
            due = int(item.gsi1sk.split("#")[0])
            if due > now.timestamp():
                asked += int(service.request_timer(item.lottery_id, datetime.fromtimestamp(due, now.tzinfo), now=now))
                continue
            step, next_at = service.run_step(item.lottery_id, now)
            ran += int(step is not None)
            service.request_timer(item.lottery_id, next_at, now=now)
        except Exception:  # noqa: BLE001 - logged; the next minute retries this lottery, the others go on
            logger.exception("lottery step failed", extra={"lottery_id": item.lottery_id})
            failed += 1
    swept = repository.sweep_outbox()
    return {"lottery_steps": ran, "lottery_timers": asked, "lottery_failures": failed, "outbox_swept": swept,
            **polls.tick(now)}     # polls and quizzes whose timer ran out, timers for the next minute's

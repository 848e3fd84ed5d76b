"""Engagement: verifiable lotteries (and polls, quizzes, points for taking part).

The public face: what other contexts and the scheduled functions may call.
Importing it stays light (no pynamodb or botocore); the functions below load
the service when first called.

  lotteries  POST /v1/rooms/{room_id}/lotteries opens one (commitment published);
             entries by POST .../entries (follow, share, buyers) or by typing the
             keyword as danmaku (read from interaction's stored danmaku at the close);
             the close freezes the entrant list (its hash published); the draw mixes
             in a drand beacon round after the close, reveals the secret and derives
             the winners (engagement.draw, pure); GET .../proof has everything needed
             to recompute them (scripts/verify_lottery.py).
"""
from __future__ import annotations

from typing import Any


def _jobs():
    from livecommerce.engagement import jobs  # deferred: pynamodb/botocore, not paid at face import

    return jobs


def run_lottery_step(lottery_id: str, now: Any) -> Any:
    """A lottery timer's step (countdown, close, draw, claim deadline): runs what is due, once."""
    return _jobs().run_lottery_step(lottery_id, now)


def run_poll_step(poll_id: str, now: Any) -> Any:
    """A poll or quiz timer's step: close it at its timer (results, cleared state, quiz points), once."""
    from livecommerce.engagement import polls  # deferred: pynamodb/botocore, not paid at face import

    return polls.run_close_step(poll_id, now)


def tick(now: Any = None) -> dict[str, int]:
    """The minute tick: due lottery steps whose timer was lost, timers for the next minute, the outbox."""
    return _jobs().tick(now)

"""Viewer tags: who a viewer was in one session (pure, no I/O).

Each tag is one small rule over one viewer's facts in the session (`ViewerFacts`), which the
report query computes from accepted traffic only (fake traffic never earns a tag). The rules:

  buyer                   paid at least one order in this session
  repeat_buyer            a buyer here who also paid an order in an earlier session of the same host
  high_intent_non_buyer   watched at least 5 minutes and clicked a product, and paid no order here
                          (an order left unpaid or expired is not a purchase: these are the viewers
                          the post-live reminders are for)
  coupon_user             paid an order with a coupon in this session
  first_time_viewer       never watched an earlier session of this host
  lottery_only            entered a lottery here, and neither clicked a product nor ordered

Phone numbers and addresses are not facts here: nothing in a viewer row can carry them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

HIGH_INTENT_WATCH_SECONDS = 5 * 60

BUYER = "buyer"
REPEAT_BUYER = "repeat_buyer"
HIGH_INTENT_NON_BUYER = "high_intent_non_buyer"
COUPON_USER = "coupon_user"
FIRST_TIME_VIEWER = "first_time_viewer"
LOTTERY_ONLY = "lottery_only"


@dataclass(frozen=True)
class ViewerFacts:
    """One viewer in one session (accepted traffic), plus what the host's earlier sessions say."""

    watch_seconds: int = 0
    product_clicks: int = 0
    orders: int = 0                       # orders placed here (paid or not)
    paid_orders: int = 0                  # orders paid here
    coupon_orders: int = 0                # paid orders here that used a coupon
    lottery_entries: int = 0
    earlier_sessions_watched: int = 0     # the host's earlier sessions this viewer watched
    earlier_paid_orders: int = 0          # orders this viewer paid in the host's earlier sessions


RULES: dict[str, Callable[[ViewerFacts], bool]] = {
    BUYER: lambda f: f.paid_orders > 0,
    REPEAT_BUYER: lambda f: f.paid_orders > 0 and f.earlier_paid_orders > 0,
    HIGH_INTENT_NON_BUYER: lambda f: (f.watch_seconds >= HIGH_INTENT_WATCH_SECONDS and f.product_clicks > 0
                                      and f.paid_orders == 0),
    COUPON_USER: lambda f: f.coupon_orders > 0,
    FIRST_TIME_VIEWER: lambda f: f.earlier_sessions_watched == 0,
    LOTTERY_ONLY: lambda f: (f.lottery_entries > 0 and f.product_clicks == 0 and f.orders == 0
                             and f.paid_orders == 0),
}

TAGS: tuple[str, ...] = tuple(RULES)


def tags_of(facts: ViewerFacts) -> list[str]:
    """The viewer's tags, in the order of TAGS."""
    return [tag for tag, rule in RULES.items() if rule(facts)]

"""The domain events engagement emits: one model per type in spec.py `emits`.

Lottery events carry `room_id` and go to the room's `events` topic through the
interaction broadcasts (interaction.spec.BROADCAST_EVENTS). What a viewer sees
is public by design: entrants and winners appear only as per-lottery pseudonyms
(`entrant`, see engagement.draw) plus a masked nickname, never as user ids.
"""
from __future__ import annotations

from livecommerce.shared.events import DomainEvent


class LotteryOpened(DomainEvent):
    lottery_id: str
    room_id: str
    kind: str                      # keyword | follow | share | buyers
    keyword: str | None = None
    prize_kind: str                # coupon | points | product | gift
    prize_name: str
    winners: int
    opens_at: str
    closes_at: str
    commitment: str                # sha256(server secret), hex


class LotteryEntered(DomainEvent):
    """A viewer entered a lottery through POST /v1/lotteries/{id}/entries (follow, share, buyers
    lotteries). Internal: on the bus for analytics (the lottery_only viewer tag), never broadcast;
    the public face of an entrant stays its pseudonym. Keyword entrants (found by danmaku at the
    close) are not put on the bus one by one: the close writes their LotteryEntered rows (via
    "danmaku") straight to the analytics store (analytics.LotteryEntrant, 500 a call)."""

    lottery_id: str
    room_id: str
    user_id: str
    via: str                       # entry


class LotteryCountdown(DomainEvent):
    lottery_id: str
    room_id: str
    closes_at: str
    seconds_left: int


class LotteryClosed(DomainEvent):
    lottery_id: str
    room_id: str
    entrants: int
    entrants_hash: str             # sha256 of the sorted pseudonym list
    beacon_round: int              # the drand round whose randomness decides (after the close)
    draws_at: str


class LotteryDrawn(DomainEvent):
    lottery_id: str
    room_id: str
    entrants: int
    winners: list[dict]            # [{"rank", "entrant", "nickname"}] (pseudonyms, masked nicknames)
    prize_kind: str
    prize_name: str
    beacon_round: int
    beacon_randomness: str


class LotteryPrizeClaimed(DomainEvent):
    lottery_id: str
    room_id: str
    rank: int
    user_id: str
    prize_kind: str


class LotteryPrizeForfeited(DomainEvent):
    lottery_id: str
    room_id: str
    rank: int
    user_id: str
    redraw: bool
    reason: str = "unclaimed"           # unclaimed (24 h passed) | out_of_stock (a product prize with no unit left)


class LotteryRedrawn(DomainEvent):
    lottery_id: str
    room_id: str
    rank: int
    entrant: str
    nickname: str | None = None

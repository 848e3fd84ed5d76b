"""What the engagement context (lotteries, polls, quizzes, points for taking part)
declares: its table, routes, functions and events."""
from __future__ import annotations

from livecommerce.shared.spec import ContextSpec, FunctionSpec, IndexSpec, LongRun, Route, Subscription, TableSpec

# Engagement: one table for lotteries, polls and quizzes (single-table, pk/sk):
#
#   LOT#<id>           META             a lottery (kind, prize, window, eligibility, state, proof fields)
#   LOTENT#<id>#<h>    ENT#<pseudonym>  an entry (one per person: a conditional put), in one of 16 partitions
#                                       by the pseudonym's first hex digit <h> (write spread; parallel close)
#   LOTENT#<id>#<h>    CNT              that partition's live entrant count (the frozen count is exact)
#   LOT#<id>           WIN#<rank>       a winner and the state of their prize (claimed, pending, forfeited)
#   LOTUSER#<id>#<user> WON             the winner's pointer (address claims; one per lottery and user)
#   ROOMLOT#<room>     <created>#<id>   the room's lotteries, newest last
#   <aggregate>        OUTBOX#<ulid>    domain events (gsi1: pending, sharded)
#   gsi1: LOTDUE / <epoch>#<id>         the next step of a lottery (close, draw, claim deadline) for the tick
#
# Polls and quizzes (H7) go in the same table under their own prefixes:
#   POLL#<id> META / VOTE#<user> / OPT#<n>#<shard>,  QUIZ#<id> META / ANS#<user>, ...
ENGAGEMENT = TableSpec(
    logical_id="Engagement",
    env_var="ENGAGEMENT_TABLE",
    indexes=(IndexSpec("gsi1", "gsi1pk", "gsi1sk"),),
    ttl_attribute="expires_at",
)

SPEC = ContextSpec(
    name="engagement",
    description="Verifiable lotteries, polls, quizzes, points for taking part",
    tables=(ENGAGEMENT,),
    routes=(
        # "host" here: the room's host or an operator; room assistants once identity has them
        # (livecommerce.engagement.service.require_runner is the one hook).
        Route("POST", "/v1/rooms/{room_id}/lotteries", "engagement", "token", "host",
              errors=(404,)),   # a product or coupon template that does not exist
        Route("GET", "/v1/lotteries/{lottery_id}", "engagement", "public", "anyone", room_from="path.lottery_id"),
        Route("GET", "/v1/lotteries/{lottery_id}/proof", "engagement", "public", "anyone",
              room_from="path.lottery_id"),
        Route("POST", "/v1/lotteries/{lottery_id}/entries", "engagement", "token", "viewer",
              room_from="path.lottery_id", errors=(403,)),   # banned, muted, not a follower, account too new
        Route("PUT", "/v1/lotteries/{lottery_id}/winners/me/address", "engagement", "token", "viewer",
              room_from="path.lottery_id", errors=(403,)),   # not a winner
        # Polls and quizzes (engagement.polls): the room's host, an operator or an assistant with run_polls.
        Route("POST", "/v1/rooms/{room_id}/polls", "engagement", "token", "host", errors=(409,)),   # room_ended
        Route("GET", "/v1/polls/{poll_id}", "engagement", "public", "anyone", room_from="path.poll_id"),
        Route("POST", "/v1/polls/{poll_id}/votes", "engagement", "token", "viewer", room_from="path.poll_id",
              errors=(403, 409)),   # banned; already_voted, poll_closed (422 option_not_found)
        Route("POST", "/v1/polls/{poll_id}/close", "engagement", "token", "host", room_from="path.poll_id"),
        Route("POST", "/v1/rooms/{room_id}/quizzes", "engagement", "token", "host", errors=(409,)),
        Route("GET", "/v1/quizzes/{quiz_id}", "engagement", "public", "anyone", room_from="path.quiz_id"),
        Route("POST", "/v1/quizzes/{quiz_id}/answers", "engagement", "token", "viewer", room_from="path.quiz_id",
              errors=(403, 409)),   # banned; already_answered, quiz_closed (the timer ran out)
        Route("POST", "/v1/quizzes/{quiz_id}/close", "engagement", "token", "host", room_from="path.quiz_id"),
    ),
    subscriptions=(
        # A paid order makes its buyer eligible for the room's buyers' lotteries (engagement.consumers).
        Subscription("LotteryBuyers", "engagement_events", detail_types=("OrderPaid",)),
        # Points for taking part (engagement.points): watch time after a room's report, shares that brought a viewer.
        Subscription("ParticipationPoints", "engagement_events", detail_types=("ViewerWatchTimes", "ShareArrived")),
    ),
    functions=(
        FunctionSpec(
            name="engagement",
            description="Lotteries (polls and quizzes): create, enter, state, proof, winners' addresses",
            # coupon and points prizes (marketing's face); a claimed product or gift's prize order (orders'
            # face) and, for a product, its unit taken from the catalog product's stock
            tables_write=(ENGAGEMENT, "Marketing", "Orders", "Catalog"),
            tables_read=("Rooms", "Identity", "Interaction"),   # room host; follows; bans
            # KMS, the PII key: winners' shipping addresses (subject "address:<user>") and each
            # lottery's committed server secret until its draw reveals it (subject "server-secret").
            pii_encryption_context=("lottery_id", "subject"),
            materials_prefix="lotteries/",           # frozen entrant lists (the proof's entrants_url)
            puts_events=True,
            publishes_realtime=True,                 # winners' private messages
            invokes=("engagement_clock",),           # a lottery's close within the minute: its timer
        ),
        FunctionSpec(
            name="engagement_clock",
            description="Every minute and at the second: lottery countdowns, closes, draws, claim deadlines",
            tables_write=(ENGAGEMENT, "Marketing"),
            tables_read=("Rooms", "Identity", "Interaction"),   # eligibility at close; keyword danmaku
            pii_encryption_context=("lottery_id", "subject"),   # the server secret, revealed at the draw
            materials_prefix="lotteries/",           # the entrant list frozen at the close, read at the draw
            puts_events=True,
            publishes_realtime=True,
            schedule="rate(1 minute)",
            puts_analytics_events=True,              # keyword entrants (LotteryEntered rows) to the analytics store
            invokes=("engagement_clock",),           # the next step's timer, when that one is near too
            # A timer invocation sleeps until its second (at most shared.timers.TIMER_LEAD_SECONDS = 75 s
            # ahead), then runs the step (a draw reads the frozen entrant list); the minute tick is short.
            long_run=LongRun(reason="a timer sleeps up to 75 s until its second, then runs the step",
                             max_seconds=120),
            timeout_seconds=120,
        ),
        FunctionSpec(
            name="engagement_events",
            description="OrderPaid -> the buyer may enter the room's buyers' lotteries; watch-time and share points",
            tables_write=(ENGAGEMENT, "Marketing"),  # ROOMBUYER items (30 days); participation caps; the points ledger
        ),
    ),
    emits=("LotteryOpened", "LotteryEntered", "LotteryCountdown", "LotteryClosed", "LotteryDrawn",
           "LotteryPrizeClaimed", "LotteryPrizeForfeited", "LotteryRedrawn"),
    router="livecommerce.engagement.router",
)

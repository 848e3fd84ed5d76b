"""Poll and quiz use cases: create, vote/answer, read, close (and quiz points). No HTTP here.

Who may run them: the room's host, an operator, or an assistant with `run_polls`
(rooms.require_room_staff). Votes are exact under any concurrency: the vote item (once per
viewer) and its options' sharded counters are one transaction with a check that the poll is
still open. Live results go to the room at most once a second per poll (coalesced: the first
vote of a second publishes at once, one later vote of that second waits for the next slot and
publishes the counts then, so the last votes are never left out), as the room's retained `poll`
(or `quiz`) state for late joiners; the close publishes the final result on the events feed and
clears the retained state. A quiz's answer is hidden until it closes; the close grants its points
through marketing's ledger (once per quiz and viewer: the ledger's ref).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from livecommerce import identity, interaction, rooms
from livecommerce.engagement import points, poll_rules as rules, poll_storage as store
from livecommerce.engagement.poll_models import (AnswerRequest, Answered, CreatePollRequest, CreateQuizRequest,
                                                 PollView, Voted, VoteRequest)
from livecommerce.shared import gates, problems
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import iso, utcnow
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger
from livecommerce.shared.tx import TxCancelled


def _missing(kind: str) -> problems.NotFound:
    return problems.NotFound(f"No such {kind}.", code=f"{kind}_not_found")


def _load(caller: Caller | None, poll_id: str, kind: str) -> store.PollItem:
    item = store.get_poll(poll_id, consistent=True)
    if item is None or item.kind != kind:
        raise _missing(kind)
    rooms.require_visible(item.room_id, caller, hidden=_missing(kind))
    return item


def _is_open(item: store.PollItem, now: datetime) -> bool:
    return rules.is_open(item.state, float(item.closes_epoch), now.timestamp())


def view(item: store.PollItem, caller: Caller | None, *, now: datetime | None = None,
         counts: list[int] | None = None) -> PollView:
    now = now or utcnow()
    open_ = _is_open(item, now)
    options = list(item.options)
    counts = counts if counts is not None else rules.tally(store.counts(item.poll_id), len(options))
    mine = store.get_vote(item.poll_id, caller.user_id) if caller else None
    result = PollView(id=item.poll_id, room_id=item.room_id, kind=item.kind, question=item.question,
                      options=options, multiple=bool(item.multiple), max_choices=int(item.max_choices or 1),
                      state="open" if open_ else "closed", opens_at=item.opens_at, closes_at=item.closes_at,
                      total=sum(counts) if item.kind == "poll" or not open_ else sum(counts),
                      my_choices=[int(c) for c in mine.choices] if mine else None)
    if item.kind == "poll" or not open_:
        result.counts = counts
    if item.kind == "quiz":
        result.points = int(item.points or 0)
        if not open_:
            result.answer = int(item.answer)
            answers = [rules.Answer(v.user_id, int(v.choices[0]), int(v.voted_ms)) for v in store.votes(item.poll_id)]
            result.ranking = [{"rank": n + 1, "user_id": a.user_id, "answered_ms": a.answered_ms}
                              for n, a in enumerate(rules.ranking(answers, int(item.answer)))]
    return result


def _public(item: store.PollItem, counts: list[int]) -> dict:
    """What the room sees while it runs (a quiz: no counts, no answer)."""
    message = {"type": f"{item.kind}_state", "id": item.poll_id, "question": item.question,
               "options": list(item.options), "closes_at": item.closes_at, "total": sum(counts)}
    if item.kind == "poll":
        message["counts"] = counts
    return message


# -- create ------------------------------------------------------------------------------

def _create(caller: Caller, room_id: str, *, kind: str, question: str, options: list[str], multiple: bool,
            max_choices: int, duration_seconds: int, answer: int | None = None, points: int | None = None) -> PollView:
    room = rooms.require_room_staff(caller, room_id, "run_polls")
    if room.status == "ended":
        raise problems.Conflict("The live has ended.", code="room_ended")
    rules.check_options(options)
    if answer is not None and not 0 <= answer < len(options):
        raise problems.Problem("answer: not one of the options.", code="option_not_found", status=422,
                               title="No such option")
    now = utcnow()
    closes = now + timedelta(seconds=duration_seconds)
    poll_id = new_ulid()
    due_pk, due_sk = store.due_key(poll_id, int(closes.timestamp()))
    item = store.PollItem(*store.PollItem.key(poll_id), gsi1pk=due_pk, gsi1sk=due_sk, poll_id=poll_id, kind=kind,
                          room_id=room_id,
                          host_id=room.host_id, created_by=caller.user_id, question=question, options=options,
                          multiple=multiple, max_choices=max_choices, answer=answer, points=points, state="open",
                          opens_at=iso(now), closes_at=iso(closes), closes_epoch=int(closes.timestamp()),
                          created_at=iso(now))
    store.save_new(item)
    interaction.set_room_state(room_id, kind, _public(item, [0] * len(options)))
    request_close_timer(poll_id, _utc(int(closes.timestamp())), now=now)
    return view(item, caller, now=now, counts=[0] * len(options))


def create_poll(caller: Caller, room_id: str, body: CreatePollRequest) -> PollView:
    max_choices = min(body.max_choices or len(body.options), len(body.options)) if body.multiple else 1
    return _create(caller, room_id, kind="poll", question=body.question, options=list(body.options),
                   multiple=body.multiple, max_choices=max_choices, duration_seconds=body.duration_seconds)


def create_quiz(caller: Caller, room_id: str, body: CreateQuizRequest) -> PollView:
    return _create(caller, room_id, kind="quiz", question=body.question, options=list(body.options),
                   multiple=False, max_choices=1, duration_seconds=body.duration_seconds, answer=body.answer,
                   points=body.points)


# -- vote / answer -----------------------------------------------------------------------

def _cast(caller: Caller, item: store.PollItem, choices: list[int]) -> tuple[str, int]:
    now = utcnow()
    if not _is_open(item, now):
        raise problems.Conflict(f"The {item.kind} has closed.", code=f"{item.kind}_closed")
    banned, _ = interaction.moderation_of(item.room_id, caller.user_id)
    if banned:
        raise problems.Forbidden("You have been removed from this room.", code="banned")
    choices = rules.check_choices(choices, len(item.options), multiple=bool(item.multiple),
                                  max_choices=int(item.max_choices or 1))
    at_ms = gates.now_ms()
    try:
        store.vote_tx(item.poll_id, caller.user_id, choices, rules.shard_of(caller.user_id), iso(now), at_ms,
                      now.timestamp()).commit()
    except TxCancelled as exc:
        if "vote" in exc:
            raise problems.Conflict(f"You have already {'voted' if item.kind == 'poll' else 'answered'}.",
                                    code="already_voted" if item.kind == "poll" else "already_answered") from None
        if "open" in exc:
            raise problems.Conflict(f"The {item.kind} has closed.", code=f"{item.kind}_closed") from None
        raise
    if item.kind == "poll":
        broadcast(item, voted_ms=at_ms)
    return iso(now), at_ms


def vote(caller: Caller, poll_id: str, body: VoteRequest) -> Voted:
    item = _load(caller, poll_id, "poll")
    at, _ = _cast(caller, item, list(body.choices))
    return Voted(poll_id=poll_id, choices=sorted(body.choices), voted_at=at)


def answer(caller: Caller, quiz_id: str, body: AnswerRequest) -> Answered:
    item = _load(caller, quiz_id, "quiz")
    at, _ = _cast(caller, item, [body.choice])
    return Answered(quiz_id=quiz_id, choice=body.choice, answered_at=at)


def broadcast(item: store.PollItem, *, voted_ms: int) -> bool:
    """Live results at most once a second per poll, the last votes never left out (see the module)."""
    interval = rules.BROADCAST_INTERVAL_MS

    def take(at: int) -> tuple[bool, None]:
        if not store.try_broadcast_slot(item.poll_id, at, interval):
            return False, None
        counts = rules.tally(store.counts(item.poll_id), len(item.options))
        interaction.set_room_state(item.room_id, "poll", _public(item, counts))
        return True, None

    def next_slot(now: int) -> int | None:
        current = store.get_poll(item.poll_id, consistent=True)
        last = int(current.last_broadcast_ms or 0) if current else 0
        if current is None or current.state != "open" or last > voted_ms:
            return None                   # a publish after this vote carried it (or the close will)
        slot = last + interval
        if slot <= now:
            return now
        return slot if store.claim_trailing(item.poll_id, slot) else None

    return gates.wait_for_gate(take, next_slot, min_sleep_ms=5, max_waits=4).taken


# -- read, close -------------------------------------------------------------------------

def get(caller: Caller | None, poll_id: str, kind: str) -> PollView:
    item = _load(caller, poll_id, kind)
    if item.state == "open" and not _is_open(item, utcnow()):
        finish(item)                       # the timer ran out: the first read closes it
        item = store.get_poll(poll_id, consistent=True)
    return view(item, caller)


def close(caller: Caller, poll_id: str, kind: str) -> PollView:
    # As require_room_staff answers: neither a host nor anyone's poll assistant is 403 before any read.
    if not caller.is_host and not any("run_polls" in caps for _, _, caps in identity.assistant_grants(caller.user_id)):
        raise problems.Forbidden("Only hosts may do this.", code="host_required")
    item = _load(caller, poll_id, kind)
    rooms.require_room_staff(caller, item.room_id, "run_polls")
    finish(item)
    return view(store.get_poll(poll_id, consistent=True), caller)


def finish(item: store.PollItem) -> None:
    """Close (once), publish the final result, clear the retained state, grant a quiz's points (once)."""
    closed_now = store.close(item.poll_id)
    counts = rules.tally(store.counts(item.poll_id), len(item.options))
    if closed_now:
        final = {**_public(item, counts), "type": f"{item.kind}_closed", "counts": counts}
        if item.kind == "quiz":
            final["answer"] = int(item.answer)
        interaction.set_room_state(item.room_id, item.kind, final)
        interaction.clear_room_state(item.room_id, item.kind)
    if item.kind == "quiz" and int(item.points or 0) > 0:
        award_quiz_points(item)


def award_quiz_points(item: store.PollItem) -> int:
    """Points for every right answer (the daily caps, then marketing's ledger), once per quiz and viewer (ref)."""
    granted = 0
    for vote_item in store.votes(item.poll_id):
        if int(vote_item.choices[0]) == int(item.answer):
            # Through the daily caps (engagement.participation), then the ledger, once per quiz and viewer.
            if points.award(vote_item.user_id, "quiz_answer", int(item.points),
                            ref=f"quiz:{item.poll_id}:{vote_item.user_id}"):
                granted += 1
    store.mark_awarded(item.poll_id)
    logger.info("quiz points", extra={"quiz_id": item.poll_id, "granted": granted})
    return granted


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


# -- timed closes (the engagement clock) -------------------------------------------------
#
# A poll or quiz closes at its timer without anyone reading it: whoever learns that the close is
# less than timers.TIMER_LEAD_SECONDS away (the create, the minute tick looking ahead) asks the
# engagement clock to wake at that second ({"timer": {"kind": "poll", ...}}); the tick closes those
# whose timer was lost (at most a minute late). finish() runs once whoever gets there first.

def request_close_timer(poll_id: str, at: datetime, *, now: datetime | None = None) -> bool:
    from livecommerce.shared import timers  # deferred: boto3 lambda client on first use

    if at - (now or utcnow()) > timedelta(seconds=timers.TIMER_LEAD_SECONDS):
        return False                       # the tick asks when it is near
    return timers.invoke_async("engagement_clock", timers.timer_event("poll", poll_id, at))


def run_close_step(poll_id: str, now: datetime):
    """A poll timer's step: close the poll or quiz once its timer has run out (StepResult)."""
    from livecommerce.shared import timers  # deferred: boto3 lambda client on first use

    item = store.get_poll(poll_id, consistent=True)
    if item is None or item.state != "open":
        return timers.StepResult(None, None)
    closes = _utc(float(item.closes_epoch))
    if now < closes:
        return timers.StepResult(None, closes)
    finish(item)
    return timers.StepResult("close", None)


def tick(now: datetime | None = None) -> dict[str, int]:
    """Every minute: close the polls and quizzes whose timer ran out; timers for the next minute's."""
    from livecommerce.shared import timers  # deferred: boto3 lambda client on first use

    now = now or utcnow()
    closed = asked = failed = 0
    for item in store.due_polls(now.timestamp() + timers.TIMER_LEAD_SECONDS):
        try:
            if float(item.closes_epoch) > now.timestamp():
                asked += int(request_close_timer(item.poll_id, _utc(float(item.closes_epoch)), now=now))
            else:
                finish(item)
                closed += 1
        except Exception:  # noqa: BLE001 - logged; the next minute retries this one, the others go on
            logger.exception("poll close failed", extra={"poll_id": item.poll_id})
            failed += 1
    return {"polls_closed": closed, "poll_timers": asked, "poll_failures": failed}

"""Co-streaming and PK use cases. No HTTP here.

Rooms (host, status, channel) and identity (names) are reached through their faces,
IVS real-time through `media.stages`, the bus and the clock through the ports. Every
state change is written in one transaction with its domain event in the outbox
(interaction broadcasts those on the room's `events` topic). The publisher limit is
a condition on the stage item's counter, so two accepts racing for the 12th place
cannot both win.
"""
from __future__ import annotations

import time
from datetime import timedelta

from livecommerce import identity, interaction, rooms
from livecommerce.media import costream_rules as rules, repository, stages
from livecommerce.media.events import (CostreamGuestMuted, CostreamInvited, CostreamJoined, CostreamLayoutChanged,
                                       CostreamLeft, CostreamRequested, PkEnded, PkScore, PkStarted)
from livecommerce.media.models import (CostreamState, InviteRequest, LayoutRequest, Pk, PkRequest, Seat,
                                       SeatWithToken, StageToken)
from livecommerce.media.storage import PkItem, PkOrderItem, SeatItem, StageItem, bind_all
from livecommerce.shared import ports, problems
from livecommerce.shared.api import Caller
from livecommerce.shared.async_invoke import invoke_async
from livecommerce.shared.clock import iso, utcnow
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger
from livecommerce.shared.settings import get_settings
from livecommerce.shared.tx import Tx, TxCancelled

PK_CLOCK = "pk_clock"
PK_TTL = 30 * 24 * 3600


def _seat_missing() -> problems.NotFound:
    return problems.NotFound("No such co-stream request in this room.", code="costream_request_not_found")


def _stage_name() -> str:
    return get_settings().stage


def _name(user_id: str) -> str:
    return identity.nickname(user_id) or user_id


def _runs(caller: Caller, room: rooms.RoomRef) -> bool:
    return room.run_by(caller.user_id, caller.roles)


def _host_room(caller: Caller, room_id: str) -> rooms.RoomRef:
    return rooms.require_room_host(caller, room_id)


def _seat_view(item: SeatItem) -> Seat:
    return Seat(request_id=item.seat_id, room_id=item.room_id, kind=item.kind, user_id=item.user_id,
                display_name=item.display_name, state=item.state, created_at=item.created_at, reason=item.reason)


def _commit(tx: Tx, pk: str, events: list) -> None:
    items = repository.outbox_items(pk, events)
    for item in items:
        tx.put(f"outbox:{item.sk}", item)
    tx.commit()
    repository.flush_outbox(pk)


# -- the stage ----------------------------------------------------------------------------

def ensure_stage(room: rooms.RoomRef) -> StageItem:
    """The room's stage, created on demand exactly once: the ARN is stored with a conditional
    write; a caller that lost the race deletes the stage it made and uses the stored one."""
    item = repository.ensure_stage_item(room.room_id, room.host_id, iso(utcnow()))
    if item.ended:
        raise rules.not_live(room.room_id, "ended")
    if item.stage_arn:
        return item
    created = stages.create_stage(room.room_id, host_id=room.host_id, stage=_stage_name())
    if not repository.set_stage_arn(room.room_id, created.arn, created.rtmps_endpoint, created.whip_endpoint):
        stages.delete_stage(created.arn)
        logger.info("stage create race lost; spare deleted", extra={"room_id": room.room_id})
    item = repository.get_stage(room.room_id)
    if item.ended or not item.stage_arn:
        raise rules.not_live(room.room_id, "ended")
    return item


def _token(stage: StageItem, *, user_id: str, seat_id: str, role: str, capabilities: tuple[str, ...]) -> StageToken:
    attributes = rules.participant_attributes(room_id=stage.room_id, seat_id=seat_id, role=role,
                                              display_name=_name(user_id))
    token = stages.create_token(stage.stage_arn, user_id=user_id, attributes=attributes,
                                capabilities=capabilities, minutes=rules.TOKEN_MINUTES)
    repository.remember_participant(token.participant_id, stage.room_id, seat_id, user_id,
                                    int(time.time()) + rules.TOKEN_MINUTES * 60 + 3600)
    if role == "host":
        StageItem(*StageItem.key(stage.room_id)).update(
            actions=[StageItem.host_participant_id.set(token.participant_id)])
    else:
        SeatItem(*SeatItem.key(stage.room_id, seat_id)).update(
            actions=[SeatItem.participant_id.set(token.participant_id),
                     SeatItem.participant_ids.add({token.participant_id})])
    rtmps = stage.rtmps_endpoint or ""
    if rtmps and "://" not in rtmps:
        rtmps = f"rtmps://{rtmps}:443/app/"
    return StageToken(participant_id=token.participant_id, token=token.token, capabilities=list(token.capabilities),
                      expires_at=token.expires_at, stage_arn=stage.stage_arn, rtmps_url=rtmps or None,
                      whip_url=stage.whip_endpoint or None)


# -- seats ----------------------------------------------------------------------------------

def _new_seat(room: rooms.RoomRef, *, kind: str, user_id: str, event_for) -> Seat:
    now = iso(utcnow())
    stage = repository.ensure_stage_item(room.room_id, room.host_id, now)
    if stage.ended:
        raise rules.not_live(room.room_id, "ended")
    seat = SeatItem(*SeatItem.key(room.room_id, user_id), seat_id=user_id, room_id=room.room_id, kind=kind,
                    user_id=user_id, display_name=_name(user_id), state="pending", created_at=now, updated_at=now)
    tx = Tx()
    tx.put("seat", seat, (SeatItem.pk.does_not_exist()) | (SeatItem.state == "ended"))
    tx.update("stage", StageItem(*StageItem.key(room.room_id)), [StageItem.pending.add(1)],
              (StageItem.pending < rules.PENDING_LIMIT) & StageItem.ended.does_not_exist())
    try:
        _commit(tx, seat.pk, [event_for(seat)])
    except TxCancelled as exc:
        if "seat" in exc:
            raise problems.Conflict("This user already has an open co-stream request or seat in the room.",
                                    code="costream_request_exists") from None
        raise problems.Conflict(f"The room has {rules.PENDING_LIMIT} open requests; answer some first.",
                                code="costream_requests_full") from None
    return _seat_view(seat)


def apply(caller: Caller, room_id: str) -> Seat:
    room = rooms.require_visible(room_id, caller)
    if _runs(caller, room):
        raise problems.BadRequest("The host is on the stage already.", code="host_cannot_apply")
    rules.require_live(room_id, room.status)
    banned, _ = interaction.moderation_of(room_id, caller.user_id)
    if banned:
        raise problems.Forbidden("You are banned from this room.", code="banned")
    return _new_seat(room, kind="application", user_id=caller.user_id,
                     event_for=lambda s: CostreamRequested(room_id=room_id, request_id=s.seat_id,
                                                           display_name=s.display_name))


def invite(caller: Caller, room_id: str, body: InviteRequest) -> Seat:
    room = _host_room(caller, room_id)
    rules.require_live(room_id, room.status)
    if body.user_id == room.host_id:
        raise problems.BadRequest("The host is on the stage already.", code="host_cannot_apply")
    if not identity.user_exists(body.user_id):
        raise problems.NotFound("No such user.", code="user_not_found")
    return _new_seat(room, kind="invitation", user_id=body.user_id,
                     event_for=lambda s: CostreamInvited(room_id=room_id, request_id=s.seat_id,
                                                         invitee_id=s.user_id, display_name=s.display_name))


def _take_seat(room: rooms.RoomRef, seat: SeatItem) -> StageItem:
    """pending -> on_stage, counted against the publisher limit in the same transaction."""
    stage = ensure_stage(room)
    now = iso(utcnow())
    tx = Tx()
    tx.update("seat", SeatItem(*SeatItem.key(room.room_id, seat.seat_id)),
              [SeatItem.state.set("on_stage"), SeatItem.updated_at.set(now)], SeatItem.state == "pending")
    tx.update("stage", StageItem(*StageItem.key(room.room_id)),
              [StageItem.on_stage.add(1), StageItem.pending.add(-1)],
              (StageItem.on_stage < rules.PUBLISHER_LIMIT - 1) & StageItem.ended.does_not_exist())
    joined = CostreamJoined(room_id=room.room_id, request_id=seat.seat_id, display_name=seat.display_name,
                            on_stage=int(stage.on_stage or 0) + 1)
    try:
        _commit(tx, seat.pk, [joined])
    except TxCancelled as exc:
        if "seat" in exc:
            raise problems.Conflict("The request is no longer pending.", code="costream_request_closed") from None
        current = repository.get_stage(room.room_id)
        if current is not None and current.ended:
            raise rules.not_live(room.room_id, "ended") from None
        raise rules.stage_full(int(current.on_stage or 0) if current else rules.PUBLISHER_LIMIT - 1) from None
    return repository.get_stage(room.room_id)


def accept_application(caller: Caller, room_id: str, seat_id: str) -> SeatWithToken:
    room = _host_room(caller, room_id)
    rules.require_live(room_id, room.status)
    seat = repository.get_seat(room_id, seat_id)
    if seat is None:
        raise _seat_missing()
    rules.accept_check(kind=seat.kind, state=seat.state, seat_room=seat.room_id, room_id=room_id,
                       caller_id=caller.user_id, invitee_id=seat.user_id, caller_runs_room=_runs(caller, room))
    if seat.kind != "application":
        raise problems.Forbidden("An invitation is accepted by its invitee.", code="not_invitee")
    rules.require_live(room_id, room.status)
    stage = _take_seat(room, seat)
    guest = _token(stage, user_id=seat.user_id, seat_id=seat.seat_id, role="guest",
                   capabilities=rules.capabilities("on_stage"))
    interaction.notify_user(room_id, seat.user_id, {"type": "costream_accepted", "room_id": room_id,
                                                    "data": {"request_id": seat.seat_id,
                                                             "token": guest.model_dump(mode="json")}})
    host = _token(stage, user_id=room.host_id, seat_id="host", role="host", capabilities=("PUBLISH", "SUBSCRIBE"))
    return SeatWithToken(seat=_seat_view(repository.get_seat(room_id, seat_id)), host_token=host)


def accept_invitation(caller: Caller, room_id: str, seat_id: str) -> SeatWithToken:
    room = rooms.require_visible(room_id, caller)
    rules.require_live(room_id, room.status)
    seat = repository.get_seat(room_id, seat_id)
    if seat is None:
        raise _seat_missing()
    rules.accept_check(kind=seat.kind, state=seat.state, seat_room=seat.room_id, room_id=room_id,
                       caller_id=caller.user_id, invitee_id=seat.user_id, caller_runs_room=_runs(caller, room))
    if seat.kind != "invitation":
        raise problems.Forbidden("An application is accepted by the room's host.", code="not_room_host")
    rules.require_live(room_id, room.status)
    stage = _take_seat(room, seat)
    token = _token(stage, user_id=seat.user_id, seat_id=seat.seat_id, role="guest",
                   capabilities=rules.capabilities("on_stage"))
    return SeatWithToken(seat=_seat_view(repository.get_seat(room_id, seat_id)), token=token)


def _close_seat(room_id: str, seat: SeatItem, reason: str) -> None:
    was = seat.state
    now = iso(utcnow())
    tx = Tx()
    tx.update("seat", SeatItem(*SeatItem.key(room_id, seat.seat_id)),
              [SeatItem.state.set("ended"), SeatItem.reason.set(reason), SeatItem.updated_at.set(now)],
              SeatItem.state == was)
    counter = {"pending": [StageItem.pending.add(-1)], "on_stage": [StageItem.on_stage.add(-1)]}.get(was)
    if counter:
        tx.update("stage", StageItem(*StageItem.key(room_id)), counter)
    stage = repository.get_stage(room_id)
    on_stage = max(0, int(stage.on_stage or 0) - (1 if was == "on_stage" else 0)) if stage else 0
    try:
        _commit(tx, seat.pk, [CostreamLeft(room_id=room_id, request_id=seat.seat_id, display_name=seat.display_name,
                                           reason=reason, on_stage=on_stage)])
    except TxCancelled:
        raise problems.Conflict("The co-stream changed meanwhile; read it again.",
                                code="costream_request_closed") from None
    if stage is not None and stage.stage_arn and was in ("on_stage", "muted"):
        _disconnect_all(stage.stage_arn, seat, reason)


def _disconnect_all(stage_arn: str, seat: SeatItem, reason: str) -> None:
    """Every participant token issued to the seat (the one publishing may be any of them)."""
    for participant_id in sorted(seat.participant_ids or ({seat.participant_id} if seat.participant_id else set())):
        stages.disconnect(stage_arn, participant_id, reason)


def hang_up(caller: Caller, room_id: str, seat_id: str) -> Seat:
    room = rooms.require_visible(room_id, caller)
    if room.status not in ("live", "interrupted"):
        raise rules.not_live(room_id, room.status)   # seats exist only while live; the end closed them
    seat = repository.get_seat(room_id, seat_id)
    if seat is None:
        raise _seat_missing()
    runs = _runs(caller, room)
    rules.hangup_check(seat_room=seat.room_id, room_id=room_id, state=seat.state, caller_id=caller.user_id,
                       seat_user=seat.user_id, caller_runs_room=runs)
    if caller.user_id == seat.user_id:
        reason = "hung_up" if seat.state != "pending" else ("withdrawn" if seat.kind == "application" else "declined")
    else:
        reason = "declined" if seat.state == "pending" else "removed"
    _close_seat(room_id, seat, reason)
    return _seat_view(repository.get_seat(room_id, seat_id))


def mute(caller: Caller, room_id: str, seat_id: str) -> Seat:
    """The guest stops publishing: their publishing participant is disconnected and a new token for
    them can only subscribe (IVS has no server-side mute of a participant's tracks)."""
    room = _host_room(caller, room_id)
    rules.require_live(room_id, room.status)
    seat = repository.get_seat(room_id, seat_id)
    if seat is None:
        raise _seat_missing()
    if seat.state != "on_stage":
        raise problems.Conflict(f"The guest is {seat.state}, not on stage.", code="costream_request_closed")
    tx = Tx()
    tx.update("seat", SeatItem(*SeatItem.key(room_id, seat_id)),
              [SeatItem.state.set("muted"), SeatItem.updated_at.set(iso(utcnow()))], SeatItem.state == "on_stage")
    tx.update("stage", StageItem(*StageItem.key(room_id)), [StageItem.on_stage.add(-1)])
    try:
        _commit(tx, seat.pk, [CostreamGuestMuted(room_id=room_id, request_id=seat_id, display_name=seat.display_name)])
    except TxCancelled:
        raise problems.Conflict("The guest left meanwhile.", code="costream_request_closed") from None
    stage = repository.get_stage(room_id)
    if stage and stage.stage_arn:
        _disconnect_all(stage.stage_arn, seat, "muted by the host")
    return _seat_view(repository.get_seat(room_id, seat_id))


# -- layout and composition -------------------------------------------------------------------

def set_layout(caller: Caller, room_id: str, body: LayoutRequest) -> CostreamState:
    room = _host_room(caller, room_id)
    if body.layout != "off":
        rules.require_live(room_id, room.status)
        if not room.channel_arn:
            raise rules.not_live(room_id, room.status)
    stage = ensure_stage(room) if body.layout != "off" else repository.get_stage(room_id)
    if stage is None:
        return state(caller, room_id)
    previous = stage.composition_arn
    arn, comp_state = None, "stopped"
    if (previous and stage.layout != body.layout) or (not previous and body.layout != "off"):
        # The channel's stream moves (host to composition, or back): on AWS its Stream End and the next
        # Stream Start are a planned switch, not a drop; rooms holds the interruption for it.
        rooms.plan_switch(room_id)
    if body.layout != "off":
        # One composition per stage: start the new layout, then stop the old one, so the channel's ingest is
        # handed from one to the other (the channel's reconnect window keeps the room live meanwhile).
        token = f"{room_id}-{body.layout}-{new_ulid()}"
        if previous and stage.layout != body.layout:
            stages.stop_composition(previous)
            previous = None
        if previous and stage.layout == body.layout:
            arn, comp_state = previous, stage.composition_state
        else:
            arn = stages.start_composition(stage.stage_arn, channel_arn=room.channel_arn,
                                           layout=rules.layout_configuration(body.layout), idempotency_token=token,
                                           room_id=room_id, stage=_stage_name())
            # IVS composition events name the composition only: remember whose it is.
            repository.remember_participant(f"composition:{arn}", room_id, "composition", room.host_id,
                                            int(time.time()) + 2 * 24 * 3600)
            comp_state = "starting"
    elif previous:
        stages.stop_composition(previous)
    actions = [StageItem.layout.set(body.layout), StageItem.composition_state.set(comp_state)]
    actions.append(StageItem.composition_arn.set(arn) if arn else StageItem.composition_arn.remove())
    tx = Tx()
    tx.update("stage", StageItem(*StageItem.key(room_id)), actions)
    _commit(tx, stage.pk, [CostreamLayoutChanged(room_id=room_id, layout=body.layout, composition=comp_state)])
    return state(caller, room_id)


# -- reading -----------------------------------------------------------------------------------

def state(caller: Caller, room_id: str) -> CostreamState:
    room = rooms.require_visible(room_id, caller)
    stage = repository.get_stage(room_id)
    runs = _runs(caller, room)
    all_seats = repository.seats(room_id) if stage else []
    visible = [s for s in all_seats if s.state in rules.OPEN and (runs or s.state != "pending"
                                                                  or s.user_id == caller.user_id)]
    view = CostreamState(room_id=room_id, layout=(stage.layout if stage else "off"),
                         composition=(stage.composition_state if stage else "stopped"),
                         on_stage=int(stage.on_stage or 0) if stage else 0,
                         publisher_limit=rules.PUBLISHER_LIMIT, seats=[_seat_view(s) for s in visible])
    if stage and stage.pk_id:
        pk = repository.get_pk(stage.pk_id)
        if pk is not None:
            view.pk = pk_view(pk, room_id)
    if stage and stage.stage_arn and not stage.ended and room.status == "live":
        mine = [s for s in all_seats if s.user_id == caller.user_id and s.state in ("on_stage", "muted")]
        if runs and caller.user_id == room.host_id:
            view.my_token = _token(stage, user_id=room.host_id, seat_id="host", role="host",
                                   capabilities=("PUBLISH", "SUBSCRIBE"))
        elif mine:
            view.my_token = _token(stage, user_id=caller.user_id, seat_id=mine[0].seat_id, role="guest",
                                   capabilities=rules.capabilities(mine[0].state))
    return view


# -- PK -------------------------------------------------------------------------------------------

def pk_view(pk: PkItem, room_id: str) -> Pk:
    mine_a = room_id == pk.room_a
    outcome = None
    if pk.outcome:
        outcome = _outcome_for(pk.outcome, mine_a)
    return Pk(pk_id=pk.pk_id, room_id=room_id, other_room_id=pk.room_b if mine_a else pk.room_a, rule=pk.rule,
              state=pk.state, started_at=pk.started_at, ends_at=pk.ends_at,
              score=int(pk.score_a if mine_a else pk.score_b), other_score=int(pk.score_b if mine_a else pk.score_a),
              outcome=outcome)


def _outcome_for(outcome: str, side_a: bool) -> str:
    if outcome in ("draw", "cancelled"):
        return outcome
    return "won" if (outcome == "a_won") == side_a else "lost"


def _pk_events(pk: PkItem, make) -> list:
    return [make(pk.room_a, pk.room_b, True), make(pk.room_b, pk.room_a, False)]


def start_pk(caller: Caller, room_id: str, body: PkRequest) -> Pk:
    room = _host_room(caller, room_id)
    rules.pk_pair_check(room_id, body.other_room_id)
    rules.pk_duration_check(body.duration_seconds)
    rules.require_live(room_id, room.status)
    other = rooms.get_room(body.other_room_id, consistent=True)
    if other is None or not other.visible_to(caller.user_id, caller.roles) and other.visibility == "test":
        raise problems.NotFound("No such room.", code="room_not_found")
    if other.visibility == "test":
        raise problems.Conflict("A test room cannot PK.", code="room_not_live")
    rules.require_live(other.room_id, other.status)
    now = utcnow()
    ends = now + timedelta(seconds=body.duration_seconds)
    stage_a = repository.ensure_stage_item(room_id, room.host_id, iso(now))
    stage_b = repository.ensure_stage_item(other.room_id, other.host_id, iso(now))
    baseline_a = baseline_b = 0
    if body.rule == "likes":
        baseline_a, baseline_b = interaction.like_total(room_id), interaction.like_total(other.room_id)
    pk_id = new_ulid()
    pk = PkItem(*PkItem.key(pk_id), pk_id=pk_id, room_a=room_id, room_b=other.room_id, rule=body.rule,
                state="running", started_at=iso(now), ends_at=iso(ends), ends_epoch=int(ends.timestamp()),
                baseline_a=baseline_a, baseline_b=baseline_b, score_a=0, score_b=0,
                expires_at=int(now.timestamp()) + PK_TTL)
    tx = Tx()
    tx.put("pk", pk)
    free = StageItem.pk_id.does_not_exist() & StageItem.ended.does_not_exist()
    tx.update("stage_a", StageItem(*StageItem.key(room_id)), [StageItem.pk_id.set(pk_id)], free)
    tx.update("stage_b", StageItem(*StageItem.key(other.room_id)), [StageItem.pk_id.set(pk_id)], free)
    events = _pk_events(pk, lambda me, them, a: PkStarted(room_id=me, pk_id=pk_id, other_room_id=them,
                                                          rule=body.rule, ends_at=iso(ends)))
    try:
        _commit(tx, pk.pk, events)
    except TxCancelled as exc:
        which = "This room" if "stage_a" in exc else "The other room"
        raise problems.Conflict(f"{which} is already in a PK (or has ended).", code="pk_busy") from None
    replication = _link_stages(pk_id, stage_a, stage_b)
    if replication:
        PkItem(*PkItem.key(pk_id)).update(actions=[PkItem.replication.set(replication)])
    if not invoke_async(PK_CLOCK, {"pk_id": pk_id}):
        logger.warning("pk clock not started; the minute tick finishes the PK", extra={"pk_id": pk_id})
    return pk_view(repository.get_pk(pk_id), room_id)


def _link_stages(pk_id: str, stage_a: StageItem, stage_b: StageItem) -> list[list[str]]:
    """Participant replication: each host appears on the other's stage (so in both compositions).
    Only when both hosts are on their stages; otherwise the PK still runs (the score is ours)."""
    links = []
    for source, dest in ((stage_a, stage_b), (stage_b, stage_a)):
        if source.stage_arn and dest.stage_arn and source.host_participant_id:
            try:
                stages.start_replication(source.stage_arn, dest.stage_arn, source.host_participant_id,
                                         {"role": "pk", "pip": "true", "order": "2", "room_id": source.room_id})
                links.append([source.stage_arn, dest.stage_arn, source.host_participant_id])
            except problems.Problem as exc:
                logger.warning("PK replication not started", extra={"pk_id": pk_id, "code": exc.code})
    return links


def end_pk_by_host(caller: Caller, room_id: str) -> Pk:
    _host_room(caller, room_id)
    stage = repository.get_stage(room_id)
    if stage is None or not stage.pk_id:
        raise problems.Conflict("The room is not in a PK.", code="pk_not_running")
    finish_pk(stage.pk_id, cancelled=True)
    return pk_view(repository.get_pk(stage.pk_id), room_id)


def _scores(pk: PkItem) -> rules.Score:
    if pk.rule == "likes":
        return rules.Score(rules.likes_score(interaction.like_total(pk.room_a), int(pk.baseline_a)),
                           rules.likes_score(interaction.like_total(pk.room_b), int(pk.baseline_b)))
    return rules.Score(int(pk.score_a), int(pk.score_b))


def pk_tick(pk_id: str, now_ms: int) -> str:
    """One step of a PK's clock: the score if changed (at most once a second), the result at the end."""
    pk = repository.get_pk(pk_id)
    if pk is None or pk.state != "running":
        return "ended"
    if now_ms >= int(pk.ends_epoch) * 1000:
        finish_pk(pk_id, cancelled=False)
        return "finished"
    score = _scores(pk)
    changed = (score.a, score.b) != (pk.published_a, pk.published_b)
    last = int(pk.published_ms) if pk.published_ms is not None else None
    if not rules.should_publish(last, now_ms, changed):
        return "unchanged" if not changed else "coalesced"
    tx = Tx()
    gate = PkItem.state == "running"
    if last is not None:
        gate = gate & (PkItem.published_ms == last)   # one publisher per window, whoever ticks
    tx.update("pk", PkItem(*PkItem.key(pk_id)),
              [PkItem.score_a.set(score.a), PkItem.score_b.set(score.b), PkItem.published_a.set(score.a),
               PkItem.published_b.set(score.b), PkItem.published_ms.set(now_ms)], gate)
    events = _pk_events(pk, lambda me, them, a: PkScore(room_id=me, pk_id=pk_id, other_room_id=them,
                                                        score=score.a if a else score.b,
                                                        other_score=score.b if a else score.a))
    try:
        _commit(tx, pk.pk, events)
    except TxCancelled:
        return "coalesced"
    return "published"


def finish_pk(pk_id: str, *, cancelled: bool) -> bool:
    pk = repository.get_pk(pk_id)
    if pk is None or pk.state != "running":
        return False
    score = _scores(pk)
    res = rules.result(score, pk.room_a, pk.room_b)
    outcome = "cancelled" if cancelled else ("draw" if res["draw"] else
                                             "a_won" if res["winner_room_id"] == pk.room_a else "b_won")
    tx = Tx()
    tx.update("pk", PkItem(*PkItem.key(pk_id)),
              [PkItem.state.set("ended"), PkItem.outcome.set(outcome), PkItem.score_a.set(score.a),
               PkItem.score_b.set(score.b)], PkItem.state == "running")
    for label, room in (("stage_a", pk.room_a), ("stage_b", pk.room_b)):
        tx.update(label, StageItem(*StageItem.key(room)), [StageItem.pk_id.remove()], StageItem.pk_id == pk_id)
    events = _pk_events(pk, lambda me, them, a: PkEnded(room_id=me, pk_id=pk_id, other_room_id=them,
                                                        score=score.a if a else score.b,
                                                        other_score=score.b if a else score.a,
                                                        outcome=_outcome_for(outcome, a)))
    try:
        _commit(tx, pk.pk, events)
    except TxCancelled as exc:
        if "pk" in exc:
            return False
        raise
    for source, dest, participant in pk.replication or []:
        try:
            stages.stop_replication(source, dest, participant)
        except problems.Problem as exc:
            logger.warning("PK replication not stopped", extra={"pk_id": pk_id, "code": exc.code})
    return True


def run_pk_clock(pk_id: str, *, max_seconds: float = 900.0) -> str:
    """The PK's clock (the pk_clock function, invoked once when the PK starts): a tick a second
    until the window ends. Ticks are idempotent; a crashed clock is finished by the minute tick."""
    clock = ports.get().clock
    started = time.monotonic()
    outcome = "running"
    while time.monotonic() - started < max_seconds:
        now_ms = int(clock.now().timestamp() * 1000)
        outcome = pk_tick(pk_id, now_ms)
        if outcome in ("ended", "finished"):
            return outcome
        clock.sleep(rules.SCORE_INTERVAL_MS / 1000)
    return outcome


def finish_overdue_pks() -> int:
    """The minute tick's fallback: PKs whose clock died are finished (scan of running PKs is small)."""
    bind_all()
    finished = 0
    now = int(time.time())
    for pk in PkItem.scan(PkItem.sk == "META", filter_condition=PkItem.state == "running"):
        if int(pk.ends_epoch) <= now and finish_pk(pk.pk_id, cancelled=False):
            finished += 1
    return finished


# -- reactions -----------------------------------------------------------------------------------

def on_order_paid(room_id: str, order_id: str, total: int) -> str:
    stage = repository.get_stage(room_id)
    if stage is None or not stage.pk_id:
        return "no_pk"
    pk = repository.get_pk(stage.pk_id)
    if pk is None or pk.state != "running" or pk.rule != "sales":
        return "no_pk"
    side = PkItem.score_a if room_id == pk.room_a else PkItem.score_b
    tx = Tx()
    tx.put("order", PkOrderItem(*PkOrderItem.key(pk.pk_id, order_id), expires_at=int(pk.expires_at)),
           PkOrderItem.pk.does_not_exist())
    tx.update("pk", PkItem(*PkItem.key(pk.pk_id)), [side.add(int(total))], PkItem.state == "running")
    try:
        tx.commit()
    except TxCancelled:
        return "duplicate_or_ended"
    return "counted"


def on_room_ended(room_id: str) -> dict:
    """The room ended: no more seats, the composition stops, the stage is deleted, a PK ends."""
    stage = repository.get_stage(room_id)
    if stage is None:
        return {"stage": "none"}
    StageItem(*StageItem.key(room_id)).update(actions=[StageItem.ended.set(iso(utcnow()))])
    if stage.pk_id:
        finish_pk(stage.pk_id, cancelled=True)
    closed = 0
    for seat in repository.seats(room_id):
        if seat.state in rules.OPEN:
            SeatItem(*SeatItem.key(room_id, seat.seat_id)).update(
                actions=[SeatItem.state.set("ended"), SeatItem.reason.set("room_ended")])
            closed += 1
    if stage.composition_arn:
        stages.stop_composition(stage.composition_arn)
    deleted = stages.delete_stage(stage.stage_arn) if stage.stage_arn else False
    StageItem(*StageItem.key(room_id)).update(actions=[
        StageItem.on_stage.set(0), StageItem.pending.set(0), StageItem.composition_state.set("stopped"),
        StageItem.layout.set("off")])
    return {"stage": "deleted" if deleted else "gone", "seats_closed": closed}


def on_participant_left(participant_id: str) -> str:
    """IVS stage event: a guest's participant left the stage (closed the app, lost the network past
    IVS's reconnect): their seat ends and frees its place, unless a newer token replaced it."""
    part = repository.get_participant(participant_id)
    if part is None or part.seat_id == "host":
        return "ignored"
    seat = repository.get_seat(part.room_id, part.seat_id)
    if seat is None or seat.participant_id != participant_id or seat.state not in ("on_stage", "muted"):
        return "stale"
    try:
        _close_seat(part.room_id, seat, "left")
    except problems.Conflict:
        return "stale"
    return "closed"


def on_composition_state(composition_arn: str, event_name: str) -> str:
    state_of = {"Session Start": "active", "Session End": "stopped", "Session Failure": "failed"}.get(event_name)
    if state_of is None:
        return "ignored"
    owner = repository.get_participant(f"composition:{composition_arn}")
    stage = repository.get_stage(owner.room_id) if owner is not None else None
    if stage is not None:
        tx = Tx()
        tx.update("stage", StageItem(*StageItem.key(stage.room_id)), [StageItem.composition_state.set(state_of)],
                  StageItem.composition_arn == composition_arn)
        try:
            _commit(tx, stage.pk, [CostreamLayoutChanged(room_id=stage.room_id, layout=stage.layout,
                                                         composition=state_of)])
        except TxCancelled:
            return "stale"
        return state_of
    return "unknown"

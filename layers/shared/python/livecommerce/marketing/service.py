"""Marketing use cases: coupon templates, drops and claims, share rewards, points. No HTTP here.

Rooms are reached through their face (`livecommerce.rooms`); the bus and the clock through the ports."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from livecommerce import rooms
from livecommerce.marketing import repository, rules
from livecommerce.marketing.events import (CouponClaimed, CouponDropExhausted, CouponDropped, CouponDropScheduled, CouponRedeemed,
                                           CouponTemplateCreated, PointsChanged, ShareArrived, ShareRewarded,
                                           ShareRewardConfigured)
from livecommerce.marketing.models import (Arrival, Coupon, CouponPage, CreateDropRequest, CreateTemplateRequest,
                                           Drop, DropPage, LedgerEntry, Points, Redemption, RedemptionRequest, ShareCode,
                                           Template)
from livecommerce.marketing.storage import (ArrivalItem, ClaimCounterItem, CouponItem, DropItem, LedgerItem,
                                            PointsItem, PointsRefItem, RoomDropItem, RoomShareRewardItem, ShareItem,
                                            SharerItem, TemplateItem, bind_all)
from livecommerce.shared import idempotency, problems, timers
from livecommerce.shared.api import Caller
from livecommerce.shared.events import DomainEvent
from livecommerce.shared.clock import iso, now_iso, utcnow
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.tx import Tx, TxCancelled

MAX_DROP_AHEAD = timedelta(days=30)
SHARE_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHARE_CODE_LENGTH = 10
MAX_ATTEMPTS = 4


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# -- views -------------------------------------------------------------------------

def template_view(item: TemplateItem) -> Template:
    return Template(id=item.template_id, name=item.name, kind=item.kind, amount=int(item.amount),
                    threshold=int(item.threshold or 0), total=int(item.total), issued=int(item.issued or 0),
                    per_user_limit=int(item.per_user_limit), valid_from=item.valid_from,
                    valid_until=item.valid_until, valid_days=int(item.valid_days) if item.valid_days else None,
                    room_id=item.room_id, points_cost=int(item.points_cost) if item.points_cost else None,
                    created_at=item.created_at)


def _drop_state(item: DropItem, now: datetime) -> str:
    until = item.terms.get("valid_until")
    return rules.drop_state(drops_at=parse_time(item.drops_at), valid_until=parse_time(until) if until else None,
                            left=int(item.left), now=now)


def drop_view(item: DropItem) -> Drop:
    t = item.terms
    return Drop(id=item.drop_id, template_id=item.template_id, room_id=item.room_id, purpose=item.purpose,
                name=t["name"], kind=t["kind"], amount=int(t["amount"]), threshold=int(t.get("threshold") or 0),
                quantity=int(item.quantity), left=max(0, int(item.left)), drops_at=item.drops_at,
                valid_until=t.get("valid_until"), state=_drop_state(item, utcnow()), created_at=item.created_at)


def coupon_state(item: CouponItem, now: datetime | None = None) -> str:
    return rules.coupon_state(item.state, valid_until=parse_time(item.valid_until), now=now or utcnow())


def coupon_view(item: CouponItem) -> Coupon:
    return Coupon(id=item.coupon_id, template_id=item.template_id, name=item.name, kind=item.kind,
                  amount=int(item.amount), threshold=int(item.threshold or 0), room_id=item.room_id,
                  valid_from=item.valid_from, valid_until=item.valid_until, state=coupon_state(item),
                  order_id=item.order_id if item.state != "available" else None, source=item.source,
                  claimed_at=item.claimed_at, used_at=item.used_at)


def coupon_terms(item: CouponItem) -> rules.CouponTerms:
    return rules.CouponTerms(coupon_id=item.coupon_id, kind=item.kind, amount=int(item.amount),
                             threshold=int(item.threshold or 0), valid_from=parse_time(item.valid_from),
                             valid_until=parse_time(item.valid_until), room_id=item.room_id)


def _terms_of(template: TemplateItem) -> dict[str, Any]:
    return {"name": template.name, "kind": template.kind, "amount": int(template.amount),
            "threshold": int(template.threshold or 0), "per_user_limit": int(template.per_user_limit),
            "valid_from": template.valid_from, "valid_until": template.valid_until,
            "valid_days": int(template.valid_days) if template.valid_days else None, "room_id": template.room_id}


def _drop_detail(item: DropItem) -> dict[str, Any]:
    """What the drop events (scheduled, dropped, share reward) tell the room and the bus."""
    t = item.terms
    return {"drop_id": item.drop_id, "room_id": item.room_id, "template_id": item.template_id,
            "purpose": item.purpose, "quantity": int(item.quantity), "drops_at": item.drops_at,
            "name": t["name"], "kind": t["kind"], "amount": int(t["amount"]),
            "threshold": int(t.get("threshold") or 0)}


def _new_coupon(user_id: str, template_id: str, terms: dict[str, Any], *, source: str,
                drop_id: str | None) -> CouponItem:
    now = utcnow()
    start, until = rules.coupon_validity(
        valid_from=parse_time(terms["valid_from"]) if terms.get("valid_from") else None,
        valid_until=parse_time(terms["valid_until"]) if terms.get("valid_until") else None,
        valid_days=terms.get("valid_days"), now=now)
    valid_from, valid_until = iso(start), iso(until)
    coupon_id = new_ulid()
    return CouponItem(*CouponItem.key(user_id, coupon_id), coupon_id=coupon_id, user_id=user_id,
                      template_id=template_id, drop_id=drop_id, name=terms["name"], kind=terms["kind"],
                      amount=int(terms["amount"]), threshold=int(terms.get("threshold") or 0),
                      room_id=terms.get("room_id"), valid_from=valid_from, valid_until=valid_until,
                      state="available", source=source, claimed_at=iso(now))


def _add_issue(tx: Tx, coupon: CouponItem, limit: int) -> None:
    """The viewer's per-template counter (never past `limit`) and the coupon itself."""
    counter = ClaimCounterItem(*ClaimCounterItem.key(coupon.template_id, coupon.user_id))
    tx.update("counter", counter, [ClaimCounterItem.count.add(1)],
              ClaimCounterItem.count.does_not_exist() | (ClaimCounterItem.count < limit))
    tx.put("coupon", coupon, CouponItem.pk.does_not_exist())


# -- templates and drops ---------------------------------------------------------------

def create_template(caller: Caller, body: CreateTemplateRequest, *, template_id: str | None = None) -> Template:
    """`template_id`: a fixed id instead of a new one (the local stage's demo coupon);
    409 template_exists when it is taken."""
    problem = rules.check_template(body.kind, body.amount, body.threshold)
    if problem:
        raise problems.ValidationFailed(problem, errors=[{"field": "body.threshold", "message": problem,
                                                          "type": "value_error"}])
    if body.points_cost is not None and not caller.is_operator:
        raise problems.Forbidden("Only operators make coupons redeemable for points.", code="operator_required")
    if body.room_id is None and not caller.is_operator:
        raise problems.ValidationFailed("room_id: hosts make coupons for one of their rooms.", errors=[
            {"field": "body.room_id", "message": "required for hosts", "type": "missing"}])
    if body.room_id is not None:
        rooms.require_room_host(caller, body.room_id)
    now = now_iso()
    template_id = template_id or new_ulid()
    item = TemplateItem(*TemplateItem.key(template_id), template_id=template_id, name=body.name, kind=body.kind,
                        amount=body.amount, threshold=body.threshold, total=body.total, issued=0,
                        per_user_limit=body.per_user_limit,
                        valid_from=iso(body.valid_from) if body.valid_from else None,
                        valid_until=iso(body.valid_until) if body.valid_until else None,
                        valid_days=body.valid_days, room_id=body.room_id, points_cost=body.points_cost,
                        created_by=caller.user_id, created_at=now)
    tx = Tx().put("template", item, TemplateItem.pk.does_not_exist())
    for event in repository.outbox_items(item.pk, [CouponTemplateCreated(
            template_id=template_id, room_id=body.room_id, kind=body.kind, amount=body.amount,
            threshold=body.threshold, total=body.total, created_by=caller.user_id)]):
        tx.put("outbox", event)
    try:
        tx.commit()
    except TxCancelled as exc:
        if "template" in exc:
            raise problems.Conflict("A coupon template with that id exists.", code="template_exists") from None
        raise
    repository.flush_outbox(item.pk)
    return template_view(item)


def create_drop(caller: Caller, room_id: str, body: CreateDropRequest) -> Drop:
    # The room's assistants with `drop_coupons` drop the host's templates (they make none: amounts are money).
    room = rooms.require_room_staff(caller, room_id, "drop_coupons")
    template = repository.get_template(body.template_id, consistent=True)
    if template is None:
        raise problems.NotFound("No such coupon template.", code="template_not_found")
    if template.created_by not in (caller.user_id, room.host_id) and not caller.is_operator:
        raise problems.Forbidden("Drop your own coupon templates.", code="not_template_owner")
    if template.room_id is not None and template.room_id != room_id:
        raise problems.Conflict("That template is for another room.", code="template_other_room")
    now = utcnow()
    if template.valid_until and now >= parse_time(template.valid_until):
        raise problems.Conflict("That template's coupons have expired.", code="template_expired")
    drops_at = now
    if body.drops_at is not None:
        if body.drops_at - now > MAX_DROP_AHEAD:
            raise problems.ValidationFailed("drops_at: at most 30 days ahead.", errors=[
                {"field": "body.drops_at", "message": "too far ahead", "type": "value_error"}])
        drops_at = max(now, body.drops_at)
    remaining = int(template.total) - int(template.issued or 0)
    quantity = body.quantity or remaining
    if remaining <= 0 or quantity > remaining:
        raise problems.Conflict(f"The template has {max(0, remaining)} coupons left to issue.",
                                code="template_exhausted", left=max(0, remaining))
    drop_id = new_ulid()
    scheduled = drops_at > now
    item = DropItem(*DropItem.key(drop_id), drop_id=drop_id, template_id=template.template_id, room_id=room_id,
                    purpose=body.purpose, terms=_terms_of(template), quantity=quantity, left=quantity,
                    drops_at=iso(drops_at), drops_at_epoch=int(drops_at.timestamp()),
                    created_by=caller.user_id, created_at=iso(now))
    detail = _drop_detail(item)
    events: list[DomainEvent] = []
    if body.purpose == "share_reward":
        events.append(ShareRewardConfigured(**detail))
    elif scheduled:
        item.gsi1pk, item.gsi1sk = repository.DROP_PENDING, f"{int(drops_at.timestamp()):012d}#{drop_id}"
        events.append(CouponDropScheduled(**detail))
    else:
        events.append(CouponDropped(**detail))
    tx = Tx()
    tx.update("template", TemplateItem(*TemplateItem.key(template.template_id)),
              [TemplateItem.issued.add(quantity)],
              TemplateItem.pk.exists() & (TemplateItem.issued <= int(template.total) - quantity))
    tx.put("drop", item, DropItem.pk.does_not_exist())
    tx.put("room_list", RoomDropItem(*RoomDropItem.key(room_id, drop_id), drop_id=drop_id))
    if body.purpose == "share_reward":
        tx.put("share_reward", RoomShareRewardItem(*RoomShareRewardItem.key(room_id), drop_id=drop_id,
                                                   updated_at=iso(now)))
    for event in repository.outbox_items(item.pk, events):
        tx.put("outbox", event)
    try:
        tx.commit()
    except TxCancelled as exc:
        raise problems.Conflict("The template has fewer coupons left than that; retry with fewer.",
                                code="template_exhausted") from exc
    repository.flush_outbox(item.pk)
    if scheduled and body.purpose != "share_reward":
        timers.request("coupon_drop", drop_id, drops_at, now=now)     # within the minute: on time
    return drop_view(item)


def room_drops(caller: Caller, room_id: str, *, limit: int, cursor: str | None) -> DropPage:
    """The room's drops, newest first, each with its state now (scheduled, open, exhausted, ended):
    for its host, operators and assistants who drop coupons."""
    rooms.require_room_staff(caller, room_id, "drop_coupons")
    items, next_cursor = repository.drops_of_room(room_id, limit=limit, cursor=cursor)
    return DropPage(items=[drop_view(i) for i in items], cursor=next_cursor)


def _no_drop() -> problems.NotFound:
    return problems.NotFound("No such coupon drop.", code="drop_not_found")


def get_drop(caller: Caller | None, drop_id: str) -> Drop:
    item = repository.get_drop(drop_id)
    if item is None:
        raise _no_drop()
    rooms.require_visible(item.room_id, caller, hidden=_no_drop())     # a test room's drop: as no drop
    return drop_view(item)


def run_drop(drop_id: str, now: datetime) -> timers.StepResult:
    """Announce a scheduled drop (CouponDropped) once its moment has come, once.
    (A timer runner, shared.timers; the minute tick calls it for drops whose timer was lost.)"""
    item = repository.get_drop(drop_id, consistent=True)
    if item is None or not item.gsi1pk:
        return timers.StepResult(None, None)
    at = parse_time(item.drops_at)
    if now < at:
        return timers.StepResult(None, at)
    tx = Tx().update("drop", DropItem(*DropItem.key(item.drop_id)),
                     [DropItem.gsi1pk.remove(), DropItem.gsi1sk.remove()], DropItem.gsi1pk.exists())
    for event in repository.outbox_items(item.pk, [CouponDropped(**_drop_detail(item), scheduled=True)]):
        tx.put("outbox", event)
    try:
        tx.commit()
    except TxCancelled:
        return timers.StepResult(None, None)     # announced by another timer or the tick
    repository.flush_outbox(item.pk)
    return timers.StepResult("drop", None)


def publish_due_drops(now: datetime | None = None) -> int:
    """The minute tick: announce drops whose moment has passed (their timer was lost) and
    ask for timers for those of the next TIMER_LEAD_SECONDS. Returns how many it announced."""
    now = now or utcnow()
    published = 0
    for item in repository.due_drops(now_epoch=now.timestamp() + timers.TIMER_LEAD_SECONDS):
        at = parse_time(item.drops_at)
        if at > now:
            timers.request("coupon_drop", item.drop_id, at, now=now)
        elif run_drop(item.drop_id, now).ran is not None:
            published += 1
    return published


# -- claims ----------------------------------------------------------------------------

def claim(caller: Caller, drop_id: str, key: str) -> tuple[Coupon, bool]:
    """Claim one coupon of a drop into the caller's coupon centre. (coupon, created)."""

    def build() -> idempotency.Effect[tuple[Coupon, bool]]:
        drop = repository.get_drop(drop_id)
        if drop is None:
            raise _no_drop()
        # A test room's coupons are for those who run it (a rehearsal); others: as no drop. The
        # room copy may be a second old: a crowd claims at the same moment.
        rooms.require_visible(drop.room_id, caller, cached=True, hidden=_no_drop())
        if drop.purpose != "claim":
            raise problems.Conflict("This drop is a share reward; it cannot be claimed.",
                                    code="drop_not_claimable")
        state = _drop_state(drop, utcnow())
        if state == "scheduled":
            raise problems.Conflict("The drop has not started.", code="drop_not_started", drops_at=drop.drops_at)
        if state == "ended":
            raise problems.Conflict("The drop's coupons have expired.", code="drop_ended")
        if state == "exhausted":   # answered without touching the counter
            if not drop.exhausted_at:
                announce_exhausted(drop_id)
            raise problems.Conflict("All coupons of this drop are claimed.", code="drop_exhausted")
        limits["per_user_limit"] = int(drop.terms["per_user_limit"])
        limits["left_read"] = int(drop.left)
        coupon = _new_coupon(caller.user_id, drop.template_id, drop.terms, source="claim", drop_id=drop_id)
        tx = Tx()
        tx.update("drop", DropItem(*DropItem.key(drop_id)), [DropItem.left.add(-1)],
                  DropItem.pk.exists() & (DropItem.left >= 1))
        _add_issue(tx, coupon, limits["per_user_limit"])
        # The event goes under the claimer's partition, not the (hot) drop's.
        for event in repository.outbox_items(coupon.pk, [CouponClaimed(
                drop_id=drop_id, room_id=drop.room_id, template_id=drop.template_id,
                coupon_id=coupon.coupon_id, user_id=caller.user_id)]):
            tx.put("outbox", event)
        return idempotency.Effect(tx, (coupon_view(coupon), True), ref=coupon.coupon_id,
                                  after=lambda: repository.flush_outbox(coupon.pk))

    limits: dict[str, int] = {}
    try:
        result = idempotency.commit_once("claim", caller.user_id, key,
                                         idempotency.fingerprint({"drop_id": drop_id}), build,
                                         lambda found: (_replayed_coupon(caller.user_id, found.ref), False))
    except TxCancelled as exc:
        if "drop" in exc:
            announce_exhausted(drop_id)
            raise problems.Conflict("All coupons of this drop are claimed.", code="drop_exhausted") from exc
        if "counter" in exc:
            raise problems.Conflict("You hold as many of these coupons as one viewer may.",
                                    code="claim_limit_reached", per_user_limit=limits["per_user_limit"]) from exc
        raise
    if result[1] and limits.get("left_read", EXHAUSTION_CHECK_BELOW) < EXHAUSTION_CHECK_BELOW:
        announce_exhausted(drop_id)      # one of the last ones: was it the very last?
    return result


# A claim that read fewer than this many left reads the drop again (consistently) after its commit to
# see whether it took the last one; a claim refused as exhausted always checks. So the announcement
# never waits for a crowd, and the hot drop item is read twice only by its last claims.
EXHAUSTION_CHECK_BELOW = 10


def announce_exhausted(drop_id: str) -> bool:
    """CouponDropExhausted once per drop, when no coupon is left: a conditional write of the drop's
    `exhausted_at` with the event's outbox item, so retries and racing claimers announce it once.
    The room's retained coupon state is cleared by it (interaction.state_feed)."""
    drop = repository.get_drop(drop_id, consistent=True)
    if drop is None or drop.exhausted_at or int(drop.left) > 0 or drop.purpose != "claim":
        return False
    tx = Tx().update("drop", DropItem(*DropItem.key(drop_id)), [DropItem.exhausted_at.set(iso(utcnow()))],
                     DropItem.exhausted_at.does_not_exist() & (DropItem.left <= 0))
    for event in repository.outbox_items(drop.pk, [CouponDropExhausted(
            drop_id=drop_id, room_id=drop.room_id, quantity=int(drop.quantity))]):
        tx.put("outbox", event)
    try:
        tx.commit()
    except TxCancelled:
        return False                     # announced by another claimer
    repository.flush_outbox(drop.pk)
    return True


def _replayed_coupon(user_id: str, coupon_id: str | None) -> Coupon:
    item = repository.get_coupon(user_id, coupon_id) if coupon_id else None
    if item is None:
        raise problems.Conflict("The first request's coupon is not readable yet; retry.", code="concurrent_update",
                                retryable=True)
    return coupon_view(item)


def my_coupons(caller: Caller, *, state: str, limit: int, cursor: str | None) -> CouponPage:
    items, next_cursor = repository.coupons_of(caller.user_id, limit=limit, cursor=cursor)
    now = utcnow()
    views = [coupon_view(i) for i in items if state == "all" or coupon_state(i, now) == state]
    return CouponPage(items=views, cursor=next_cursor)


def usable_coupons(user_id: str) -> list[CouponItem]:
    """The viewer's coupons that are not locked or used (validity is checked by the rules)."""
    items, _ = repository.coupons_of(user_id, consistent=True)
    return [i for i in items if i.state == "available"]


# -- shares ----------------------------------------------------------------------------

def _share_view(item: ShareItem) -> ShareCode:
    return ShareCode(code=item.code, room_id=item.room_id, sharer_id=item.sharer_id,
                     path=f"/v1/shares/{item.code}/arrivals", created_at=item.created_at)


def share_code(caller: Caller, room_id: str) -> tuple[ShareCode, bool]:
    """The caller's share code for the room: made once, the same on every later call."""
    rooms.require_visible(room_id, caller)
    existing = repository.get_sharer(room_id, caller.user_id)
    if existing is not None:
        share = repository.get_share(existing.code)
        if share is not None:
            return _share_view(share), False
    bind_all()
    code = "".join(secrets.choice(SHARE_CODE_ALPHABET) for _ in range(SHARE_CODE_LENGTH))
    share = ShareItem(*ShareItem.key(code), code=code, room_id=room_id, sharer_id=caller.user_id,
                      created_at=now_iso(), rewards=0)
    tx = Tx()
    tx.put("share", share, ShareItem.pk.does_not_exist())
    tx.put("sharer", SharerItem(*SharerItem.key(room_id, caller.user_id), code=code), SharerItem.pk.does_not_exist())
    try:
        tx.commit()
    except TxCancelled as exc:
        if "sharer" in exc:   # a concurrent first call made it
            existing = repository.get_sharer(room_id, caller.user_id)
            share = repository.get_share(existing.code) if existing else None
            if share is not None:
                return _share_view(share), False
        raise problems.Conflict("A concurrent change won; retry.", code="concurrent_update", retryable=True) from exc
    return _share_view(share), True


def arrive(caller: Caller, code: str) -> Arrival:
    """A viewer arrived through a share code: the sharer gets the room's share coupon, once per invitee."""
    share = repository.get_share(code)
    if share is None:
        raise problems.NotFound("No such share code.", code="share_not_found")
    # A test room's code (its host may have made one while rehearsing): as no code to the others.
    rooms.require_visible(share.room_id, caller, hidden=problems.NotFound("No such share code.",
                                                                          code="share_not_found"))
    if share.sharer_id == caller.user_id:
        raise problems.Conflict("Sharers cannot reward themselves.", code="self_referral")
    if repository.get_arrival(share.room_id, caller.user_id) is not None:
        return Arrival(code=code, room_id=share.room_id, first_arrival=False, rewarded=False,
                       reason="already_arrived")
    reward_reason: str | None = None
    drop = None
    pointer = repository.get_room_share_reward(share.room_id)
    if pointer is None:
        reward_reason = "no_share_reward"
    else:
        drop = repository.get_drop(pointer.drop_id, consistent=True)
        state = _drop_state(drop, utcnow()) if drop else "ended"
        if state != "open":
            reward_reason, drop = f"share_reward_{state}", None
    for _ in range(MAX_ATTEMPTS):
        now = now_iso()
        arrival = ArrivalItem(*ArrivalItem.key(share.room_id, caller.user_id), code=code,
                              sharer_id=share.sharer_id, arrived_at=now, rewarded=drop is not None)
        tx = Tx()
        events: list[DomainEvent] = []
        coupon = None
        if drop is not None:
            coupon = _new_coupon(share.sharer_id, drop.template_id, drop.terms, source="share_reward",
                                 drop_id=drop.drop_id)
            arrival.coupon_id = coupon.coupon_id
            tx.update("drop", DropItem(*DropItem.key(drop.drop_id)), [DropItem.left.add(-1)],
                      DropItem.pk.exists() & (DropItem.left >= 1))
            _add_issue(tx, coupon, int(drop.terms["per_user_limit"]))
            tx.update("share", ShareItem(*ShareItem.key(code)), [ShareItem.rewards.add(1)], ShareItem.pk.exists())
            events.append(ShareRewarded(room_id=share.room_id, code=code, sharer_id=share.sharer_id,
                                        invitee_id=caller.user_id, coupon_id=coupon.coupon_id,
                                        drop_id=drop.drop_id))
        else:
            events.append(ShareArrived(room_id=share.room_id, code=code, sharer_id=share.sharer_id,
                                       invitee_id=caller.user_id, rewarded=False, reason=reward_reason))
        tx.put("arrival", arrival, ArrivalItem.pk.does_not_exist())
        pk = f"USER#{share.sharer_id}"
        for event in repository.outbox_items(pk, events):
            tx.put("outbox", event)
        try:
            tx.commit()
        except TxCancelled as exc:
            if "arrival" in exc:
                return Arrival(code=code, room_id=share.room_id, first_arrival=False, rewarded=False,
                               reason="already_arrived")
            if "drop" in exc:
                drop, reward_reason = None, "share_reward_exhausted"
                continue
            if "counter" in exc:
                drop, reward_reason = None, "sharer_reward_limit_reached"
                continue
            raise
        repository.flush_outbox(pk)
        return Arrival(code=code, room_id=share.room_id, first_arrival=True, rewarded=coupon is not None,
                       reason=None if coupon is not None else reward_reason)
    raise problems.Conflict("A concurrent change won; retry.", code="concurrent_update", retryable=True)


# -- points ----------------------------------------------------------------------------

def award_points(user_id: str, points: int, *, reason: str, ref: str) -> bool:
    """Add points once per `ref` (an order id, a quiz answer id...). False when already awarded."""
    if points <= 0:
        return False
    bind_all()
    entry_id = new_ulid()
    tx = Tx()
    tx.put("ref", PointsRefItem(*PointsRefItem.key(user_id, ref), entry_id=entry_id),
           PointsRefItem.pk.does_not_exist())
    tx.update("balance", PointsItem(*PointsItem.key(user_id)), [PointsItem.balance.add(points)])
    tx.put("ledger", LedgerItem(*LedgerItem.key(user_id, entry_id), entry_id=entry_id, delta=points, reason=reason,
                                ref=ref, created_at=now_iso()))
    pk = f"USER#{user_id}"
    for event in repository.outbox_items(pk, [PointsChanged(user_id=user_id, delta=points, reason=reason, ref=ref)]):
        tx.put("outbox", event)
    try:
        tx.commit()
    except TxCancelled as exc:
        if "ref" in exc:
            return False
        raise
    repository.flush_outbox(pk)
    return True


def points(caller: Caller, *, limit: int, cursor: str | None) -> Points:
    items, next_cursor = repository.ledger_of(caller.user_id, limit=limit, cursor=cursor)
    return Points(balance=repository.get_points(caller.user_id),
                  ledger=[LedgerEntry(id=i.entry_id, delta=int(i.delta), reason=i.reason, ref=i.ref,
                                      created_at=i.created_at) for i in items],
                  cursor=next_cursor)


def redeem(caller: Caller, body: RedemptionRequest, key: str) -> tuple[Redemption, bool]:
    """Spend points on a coupon of a redeemable template; the balance never goes negative."""
    template = repository.get_template(body.template_id)
    if template is None:
        raise problems.NotFound("No such coupon template.", code="template_not_found")
    if template.room_id is not None:     # a test room's coupon: as no template to those who may not see it
        rooms.require_visible(template.room_id, caller, hidden=problems.NotFound(
            "No such coupon template.", code="template_not_found"))
    cost = int(template.points_cost or 0)

    def build() -> idempotency.Effect[tuple[Redemption, bool]]:
        if not template.points_cost:
            raise problems.Conflict("That coupon cannot be had for points.", code="not_redeemable")
        if template.valid_until and utcnow() >= parse_time(template.valid_until):
            raise problems.Conflict("That template's coupons have expired.", code="template_expired")
        coupon = _new_coupon(caller.user_id, template.template_id, _terms_of(template), source="points",
                             drop_id=None)
        entry_id = new_ulid()
        tx = Tx()
        tx.update("balance", PointsItem(*PointsItem.key(caller.user_id)), [PointsItem.balance.add(-cost)],
                  PointsItem.balance >= cost)
        tx.put("ledger", LedgerItem(*LedgerItem.key(caller.user_id, entry_id), entry_id=entry_id, delta=-cost,
                                    reason="redemption", ref=coupon.coupon_id, created_at=now_iso()))
        tx.update("template", TemplateItem(*TemplateItem.key(template.template_id)), [TemplateItem.issued.add(1)],
                  TemplateItem.pk.exists() & (TemplateItem.issued < TemplateItem.total))
        _add_issue(tx, coupon, int(template.per_user_limit))
        for event in repository.outbox_items(coupon.pk, [
                PointsChanged(user_id=caller.user_id, delta=-cost, reason="redemption", ref=coupon.coupon_id),
                CouponRedeemed(user_id=caller.user_id, template_id=template.template_id, coupon_id=coupon.coupon_id,
                               points=cost)]):
            tx.put("outbox", event)
        return idempotency.Effect(tx, (Redemption(coupon=coupon_view(coupon), points_spent=cost), True),
                                  ref=coupon.coupon_id, after=lambda: repository.flush_outbox(coupon.pk))

    def replay(found: idempotency.IdempotencyRecord) -> tuple[Redemption, bool]:
        return Redemption(coupon=_replayed_coupon(caller.user_id, found.ref), points_spent=cost), False

    fp = idempotency.fingerprint({"template_id": body.template_id})
    try:
        return idempotency.commit_once("redeem", caller.user_id, key, fp, build, replay)
    except TxCancelled as exc:
        if "balance" in exc:
            raise problems.Conflict(f"Not enough points: this coupon costs {cost}.", code="insufficient_points",
                                    points_cost=cost, balance=repository.get_points(caller.user_id)) from exc
        if "template" in exc:
            raise problems.Conflict("No coupons of that template are left.", code="template_exhausted") from exc
        if "counter" in exc:
            raise problems.Conflict("You hold as many of these coupons as one viewer may.",
                                    code="claim_limit_reached") from exc
        raise problems.Conflict("A concurrent change won; retry.", code="concurrent_update", retryable=True) from exc

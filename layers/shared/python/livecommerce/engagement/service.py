"""Lottery use cases: open, enter, close, draw, prizes, proof. No HTTP here.

Rooms, identity, interaction, marketing and catalog are reached through their faces;
the bus, the realtime publisher and the clock through the ports. The draw itself is
pure (engagement.draw); the beacon is verified against the pinned drand key
(engagement.beacon) before it is used.
"""
from __future__ import annotations

import base64
import json
import secrets
from datetime import datetime, timedelta, timezone

from livecommerce import analytics, catalog, identity, interaction, marketing, orders, rooms
from livecommerce.engagement import beacon as drand, draw, points, repository
from livecommerce.engagement.events import (LotteryClosed, LotteryCountdown, LotteryDrawn, LotteryEntered,
                                            LotteryOpened, LotteryPrizeClaimed, LotteryPrizeForfeited, LotteryRedrawn)
from livecommerce.engagement.models import (AddressRequest, Claim, CreateLotteryRequest, Entry, HostPrize,
                                            LotteryView, Prize, PrizeShipment, Proof, Winner)
from livecommerce.engagement.settings import drand_chain
from livecommerce.engagement.storage import LotteryItem, WinnerItem, WonItem, bind_all
from livecommerce.shared import aws, problems
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import iso, utcnow
from livecommerce.shared.events import DomainEvent
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger
from livecommerce.shared.settings import get_settings
from livecommerce.shared.tx import Tx, TxCancelled

CLAIM_WINDOW = timedelta(hours=24)
COUNTDOWN_SECONDS = 10
CLOSE_GRACE = timedelta(seconds=2)       # keyword danmaku accepted just before the close are stored by then
MAX_OPEN_AHEAD = timedelta(days=7)
PHYSICAL = ("product", "gift")
ALGORITHM = ("seed = sha256('lc-lottery-v1|'+lottery_id+'|'+secret+'|'+entrants_hash+'|'+randomness); "
             "words: sha256(seed || counter as 8 bytes BE) read as 4 big-endian uint64; uniform below n by "
             "rejection of words >= 2^64 - 2^64 % n; partial Fisher-Yates of the sorted entrant list: "
             "position i swaps with i + uniform(n - i); positions 0..winners-1 win ranks 1..winners, later "
             "positions are redraws in order. See scripts/verify_lottery.py.")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _no_lottery() -> problems.NotFound:
    return problems.NotFound("No such lottery.", code="lottery_not_found")


def _kms():
    return aws.client("kms")


def _encrypt(plain: bytes, lottery_id: str, subject: str) -> str:
    blob = _kms().encrypt(KeyId=get_settings().pii_key_id, Plaintext=plain,
                          EncryptionContext={"lottery_id": lottery_id, "subject": subject})["CiphertextBlob"]
    return base64.b64encode(blob).decode()


def _decrypt(ciphertext: str, lottery_id: str, subject: str) -> bytes:
    return _kms().decrypt(CiphertextBlob=base64.b64decode(ciphertext),
                          EncryptionContext={"lottery_id": lottery_id, "subject": subject})["Plaintext"]


# -- who runs a room's lotteries ---------------------------------------------------------

def require_runner(caller: Caller, room_id: str) -> rooms.RoomRef:
    """The one hook for who may run lotteries: the room's host, an operator, or an assistant the
    host named with the run_lotteries capability (identity's grants, through rooms)."""
    return rooms.require_room_staff(caller, room_id, "run_lotteries")


# -- views -------------------------------------------------------------------------------

def _state(item: LotteryItem, now: datetime) -> str:
    if item.state == "open" and now < parse_time(item.opens_at):
        return "scheduled"
    return item.state


def _winner(w: WinnerItem) -> Winner:
    return Winner(rank=int(w.rank), entrant=w.entrant, nickname=w.nickname, prize_state=w.state, claim_by=w.claim_by)


def _current_winners(items: list[WinnerItem]) -> list[WinnerItem]:
    """Each rank's current holder: the latest position that holds it (a redraw replaces a forfeit)."""
    by_rank: dict[int, WinnerItem] = {}
    for w in sorted(items, key=lambda w: int(w.position)):
        by_rank[int(w.rank)] = w
    return [by_rank[r] for r in sorted(by_rank)]


def lottery_view(item: LotteryItem, caller: Caller | None, *, is_runner: bool = False) -> LotteryView:
    now = utcnow()
    beacon = item.beacon or {}
    entrants = int(item.entrants) if item.entrants is not None else repository.live_count(item.lottery_id)
    view = LotteryView(
        id=item.lottery_id, room_id=item.room_id, kind=item.kind, keyword=item.keyword, prize=Prize(**item.prize),
        winners_count=int(item.winners_count), state=_state(item, now), opens_at=item.opens_at,
        closes_at=item.closes_at, followers_only=bool(item.followers_only),
        exclude_moderated=bool(item.exclude_moderated), exclude_new_accounts=bool(item.exclude_new_accounts),
        on_unclaimed=item.on_unclaimed, entrants=entrants, commitment=item.commitment, salt=item.salt,
        entrants_hash=item.entrants_hash, beacon_round=beacon.get("round"), draws_at=beacon.get("draws_at"))
    if item.state == "drawn":
        all_winners = repository.winners_of(item.lottery_id)
        current = _current_winners(all_winners)
        view.winners = [_winner(w) for w in current]
        if caller is not None:
            mine = [w for w in current if w.user_id == caller.user_id]
            view.me = _winner(mine[0]) if mine else None
        if is_runner:
            shipping = orders.prize_shipping([w.order_id for w in all_winners if w.order_id])
            view.prizes = [HostPrize(rank=int(w.rank), entrant=w.entrant, nickname=w.nickname, prize_state=w.state,
                                     claim_by=w.claim_by, user_id=w.user_id, claimed_at=w.claimed_at,
                                     address=w.address_masked, detail=w.detail, order_id=w.order_id,
                                     shipping=PrizeShipment(**shipping[w.order_id].model_dump())
                                     if w.order_id in shipping else None)
                           for w in sorted(all_winners, key=lambda w: int(w.position))]
            summary: dict[str, int] = {}
            for w in all_winners:
                summary[w.state] = summary.get(w.state, 0) + 1
            view.prize_summary = summary
    return view


def _runner_of(caller: Caller | None, room_id: str) -> bool:
    if caller is None:
        return False
    try:
        require_runner(caller, room_id)
        return True
    except problems.Problem:
        return False


def _visible_lottery(caller: Caller | None, lottery_id: str) -> LotteryItem:
    item = repository.get_lottery(lottery_id)
    if item is None:
        raise _no_lottery()
    rooms.require_visible(item.room_id, caller, hidden=_no_lottery())
    return item


def get_lottery(caller: Caller | None, lottery_id: str) -> LotteryView:
    item = _visible_lottery(caller, lottery_id)
    return lottery_view(item, caller, is_runner=_runner_of(caller, item.room_id))


# -- opening -----------------------------------------------------------------------------

def _outbox(tx: Tx, pk: str, events: list[DomainEvent]) -> None:
    for event in repository.outbox_items(pk, events):
        tx.put("outbox", event)


def _set_due(item: LotteryItem, at: datetime | None) -> None:
    if at is None:
        item.gsi1pk, item.gsi1sk = None, None
    else:
        item.gsi1pk, item.gsi1sk = repository.DUE, repository.due_key(at.timestamp(), item.lottery_id)


def create_lottery(caller: Caller, room_id: str, body: CreateLotteryRequest) -> LotteryView:
    room = require_runner(caller, room_id)
    prize = body.prize
    if prize.kind == "coupon" and not marketing.coupon_template_exists(prize.template_id):
        raise problems.NotFound("No such coupon template.", code="template_not_found")
    if prize.kind == "product" and catalog.find_product(prize.product_id) is None:
        raise problems.NotFound("No such product.", code="product_not_found")
    now = utcnow()
    opens_at = max(now, body.opens_at) if body.opens_at else now
    if opens_at - now > MAX_OPEN_AHEAD:
        raise problems.ValidationFailed("opens_at: at most 7 days ahead.", errors=[
            {"field": "body.opens_at", "message": "too far ahead", "type": "value_error"}])
    closes_at = opens_at + timedelta(seconds=body.duration_seconds)
    lottery_id = new_ulid()
    secret = secrets.token_hex(draw.SECRET_BYTES)
    salt = secrets.token_hex(draw.SALT_BYTES)
    bind_all()
    item = LotteryItem(*LotteryItem.key(lottery_id), lottery_id=lottery_id, room_id=room_id, host_id=room.host_id,
                       created_by=caller.user_id, kind=body.kind, keyword=body.keyword,
                       prize=prize.model_dump(exclude_none=True), winners_count=body.winners,
                       followers_only=body.followers_only, exclude_moderated=body.exclude_moderated,
                       exclude_new_accounts=body.exclude_new_accounts, on_unclaimed=body.on_unclaimed,
                       opens_at=iso(opens_at), closes_at=iso(closes_at), state="open", countdown_sent=False,
                       salt=salt, commitment=draw.commitment(secret),
                       secret_ciphertext=_encrypt(bytes.fromhex(secret), lottery_id, "server-secret"),
                       created_at=iso(now))
    _set_due(item, _next_open_step(item))
    tx = Tx().put("lottery", item, LotteryItem.pk.does_not_exist())
    _outbox(tx, item.pk, [LotteryOpened(
        lottery_id=lottery_id, room_id=room_id, kind=body.kind, keyword=body.keyword, prize_kind=prize.kind,
        prize_name=prize.name, winners=body.winners, opens_at=item.opens_at, closes_at=item.closes_at,
        commitment=item.commitment)])
    tx.commit()
    repository.flush_outbox(item.pk)
    request_timer(item.lottery_id, _next_open_step(item), now=now)
    return lottery_view(item, caller, is_runner=True)


def _next_open_step(item: LotteryItem) -> datetime:
    closes = parse_time(item.closes_at)
    countdown = closes - timedelta(seconds=COUNTDOWN_SECONDS)
    if not item.countdown_sent and countdown > parse_time(item.opens_at):
        return countdown
    return closes + (CLOSE_GRACE if item.kind == "keyword" else timedelta(0))


def request_timer(lottery_id: str, at: datetime | None, *, now: datetime | None = None) -> bool:
    """Ask the engagement clock to wake at `at` when it is within the lead; the tick covers the rest."""
    from livecommerce.shared import timers  # deferred: boto3 lambda client on first use

    if at is None or at - (now or utcnow()) > timedelta(seconds=timers.TIMER_LEAD_SECONDS):
        return False
    # Through timers' own reference, so the tests that record timers record these too.
    return timers.invoke_async("engagement_clock", timers.timer_event("lottery", lottery_id, at))


# -- entries -----------------------------------------------------------------------------

def _check_eligible(item: LotteryItem, user_id: str, *, is_host: bool = False) -> None:
    """Raises Forbidden with the rule's code when the user may not enter."""
    if user_id == item.host_id or is_host:
        raise problems.Forbidden("The room's host and staff cannot enter its lotteries.", code="host_cannot_enter")
    if item.exclude_moderated:
        banned, muted = interaction.moderation_of(item.room_id, user_id)
        if banned:
            raise problems.Forbidden("You are banned in this room.", code="banned")
        if muted:
            raise problems.Forbidden("You are muted in this room.", code="muted")
    if (item.followers_only or item.kind == "follow") and not identity.follows(item.host_id, user_id):
        raise problems.Forbidden("Follow the host to enter.", code="not_a_follower")
    if item.kind == "share" and not marketing.has_shared(item.room_id, user_id):
        raise problems.Forbidden("Share the room to enter.", code="not_shared")
    if item.kind == "buyers" and not repository.is_buyer(item.room_id, user_id):
        raise problems.Forbidden("Buy something in this room to enter.", code="not_a_buyer")
    if item.exclude_new_accounts:
        user = identity.find_user(user_id)
        if user is None or parse_time(user.created_at) > parse_time(item.opens_at):
            raise problems.Forbidden("Accounts created after the lottery opened cannot enter.",
                                     code="account_too_new")


def enter(caller: Caller, lottery_id: str) -> Entry:
    item = _visible_lottery(caller, lottery_id)
    now = utcnow()
    if item.kind == "keyword":
        raise problems.Conflict(f"Enter this lottery by sending {item.keyword!r} as danmaku.",
                                code="enter_by_danmaku", keyword=item.keyword)
    if item.state != "open" or now >= parse_time(item.closes_at):
        raise problems.Conflict("The lottery is closed.", code="lottery_closed")
    if now < parse_time(item.opens_at):
        raise problems.Conflict("The lottery has not opened yet.", code="lottery_not_open", opens_at=item.opens_at)
    _check_eligible(item, caller.user_id)
    entrant = draw.pseudonym(item.salt, caller.user_id)
    at = iso(now)
    if not repository.put_entry(lottery_id, entrant, caller.user_id, "entry", at):
        raise problems.Conflict("You have entered this lottery already.", code="already_entered")
    _announce_entry(item, entrant, caller.user_id)
    points.award_lottery_entry(lottery_id, caller.user_id, now=now)   # points for taking part (daily caps)
    return Entry(lottery_id=lottery_id, entrant=entrant, entered_at=at)


def _announce_entry(item: LotteryItem, entrant: str, user_id: str) -> None:
    """LotteryEntered for analytics, through the outbox under the entry's own key (no hot partition):
    written after the entry (a crash in between loses the event, never the entry); published now, or
    by the sweeper after a crash once written."""
    pk = f"{item.pk}#ENTRY#{entrant}"
    tx = Tx()
    _outbox(tx, pk, [LotteryEntered(lottery_id=item.lottery_id, room_id=item.room_id, user_id=user_id, via="entry")])
    tx.commit()
    repository.flush_outbox(pk)


def record_buyer(room_id: str, user_id: str, order_id: str) -> None:
    """OrderPaid: the viewer may enter the room's buyers' lotteries (kept 30 days)."""
    repository.record_buyer(room_id, user_id, order_id, int(utcnow().timestamp()) + 30 * 86400)


# -- the steps (engagement clock) ---------------------------------------------------------

def run_step(lottery_id: str, now: datetime) -> tuple[str | None, datetime | None]:
    """Run the lottery's due step, once: (what ran, when the next step is due)."""
    item = repository.get_lottery(lottery_id, consistent=True)
    if item is None:
        return None, None
    if item.state == "open":
        countdown = parse_time(item.closes_at) - timedelta(seconds=COUNTDOWN_SECONDS)
        due = _next_open_step(item)
        if now < due:
            return None, due
        if not item.countdown_sent and now < parse_time(item.closes_at) and countdown > parse_time(item.opens_at):
            return _countdown(item, now)
        return _close(item, now)
    if item.state == "closed":
        return _draw(item, now)
    if item.state == "drawn":
        return _settle(item, now)
    return None, None


def _countdown(item: LotteryItem, now: datetime) -> tuple[str | None, datetime | None]:
    item.countdown_sent = True
    after = _next_open_step(item)
    seconds_left = max(0, int((parse_time(item.closes_at) - now).total_seconds() + 0.999))
    tx = Tx().update("lottery", LotteryItem(*LotteryItem.key(item.lottery_id)),
                     [LotteryItem.countdown_sent.set(True), LotteryItem.gsi1sk.set(
                         repository.due_key(after.timestamp(), item.lottery_id))],
                     (LotteryItem.state == "open") & (LotteryItem.countdown_sent == False))  # noqa: E712
    _outbox(tx, item.pk, [LotteryCountdown(lottery_id=item.lottery_id, room_id=item.room_id,
                                           closes_at=item.closes_at, seconds_left=seconds_left)])
    try:
        tx.commit()
    except TxCancelled:
        return None, after
    repository.flush_outbox(item.pk)
    return "countdown", after


def _keyword_entrants(item: LotteryItem) -> None:
    since = int(parse_time(item.opens_at).timestamp() * 1000)
    until = int(parse_time(item.closes_at).timestamp() * 1000)
    rows = []
    for user_id, at_ms in interaction.danmaku_senders(item.room_id, since_ms=since, until_ms=until,
                                                      text=item.keyword or ""):
        try:
            _check_eligible(item, user_id)
        except problems.Problem:
            continue
        at = iso(datetime.fromtimestamp(at_ms / 1000, timezone.utc))
        rows.append((draw.pseudonym(item.salt, user_id), user_id, "danmaku", at))
    if rows:
        repository.put_entries(item.lottery_id, rows)
        _announce_keyword_entrants(item, rows)


def _announce_keyword_entrants(item: LotteryItem, rows: list[tuple[str, str, str, str]]) -> None:
    """LotteryEntered rows for analytics' lottery_only tag, straight to the analytics store (500 a call;
    a keyword lottery may have 100,000 entrants, too many for one bus event each). Before the close
    commits, so a close re-run after a crash says them again under the same ids (the report reads
    an id once); best effort: the analytics store being down never holds up a lottery."""
    facts = [analytics.LotteryEntrant(fact_id=f"lottery-entry-{item.lottery_id}-{entrant}", room_id=item.room_id,
                                      user_id=user_id, lottery_id=item.lottery_id, via=via,
                                      at_ms=int(parse_time(at).timestamp() * 1000))
             for entrant, user_id, via, at in rows]
    try:
        analytics.record_facts(facts)
    except Exception:  # noqa: BLE001 - logged; the lottery goes on (analytics only loses the tag)
        logger.exception("keyword entrants not recorded in the analytics store",
                         extra={"lottery_id": item.lottery_id, "entrants": len(facts)})


def _close(item: LotteryItem, now: datetime) -> tuple[str | None, datetime | None]:
    if item.kind == "keyword":
        _keyword_entrants(item)
    entrants = sorted(set(repository.all_entrants(item.lottery_id)))
    list_hash = draw.entrants_hash(entrants)
    frozen = repository.write_list(item.lottery_id, entrants)
    chain = drand_chain()
    closed_at = max(now, parse_time(item.closes_at))
    beacon_round = draw.round_after(chain.genesis_time, chain.period, closed_at.timestamp())
    draws_at = datetime.fromtimestamp(draw.round_time(chain.genesis_time, chain.period, beacon_round), timezone.utc)
    beacon = {"round": beacon_round, "draws_at": iso(draws_at),
              "chain": {"url": chain.url, "public_key": chain.public_key, "scheme": chain.scheme,
                        "period": chain.period, "genesis_time": chain.genesis_time, "chain_hash": chain.chain_hash}}
    tx = Tx().update("lottery", LotteryItem(*LotteryItem.key(item.lottery_id)), [
        LotteryItem.state.set("closed"), LotteryItem.entrants.set(len(entrants)),
        LotteryItem.entrants_hash.set(list_hash), LotteryItem.entrant_list.set(frozen),
        LotteryItem.beacon.set(beacon), LotteryItem.closed_at.set(iso(closed_at)),
        LotteryItem.gsi1sk.set(repository.due_key(draws_at.timestamp(), item.lottery_id))],
        LotteryItem.state == "open")
    _outbox(tx, item.pk, [LotteryClosed(lottery_id=item.lottery_id, room_id=item.room_id, entrants=len(entrants),
                                        entrants_hash=list_hash, beacon_round=beacon_round, draws_at=iso(draws_at))])
    try:
        tx.commit()
    except TxCancelled:
        return None, draws_at          # closed by another runner
    repository.flush_outbox(item.pk)
    return "close", draws_at


def _draw(item: LotteryItem, now: datetime) -> tuple[str | None, datetime | None]:
    info = dict(item.beacon)
    draws_at = parse_time(info["draws_at"])
    if now < draws_at:
        return None, draws_at
    chain = info["chain"]
    try:
        # Fetched wherever drand is served now (a relay may move); trusted only if the key pinned at the close signed it.
        got = drand.fetch(drand_chain().url or chain["url"], int(info["round"]))
    except drand.BeaconUnavailable:
        return None, now + timedelta(seconds=max(1, min(5, int(chain["period"]))))
    if not drand.verify(chain["scheme"], chain["public_key"], got):
        raise drand.BeaconInvalid(f"lottery {item.lottery_id}: drand round {info['round']} does not verify")
    secret = _decrypt(item.secret_ciphertext, item.lottery_id, "server-secret").hex()
    if draw.commitment(secret) != item.commitment:
        raise RuntimeError(f"lottery {item.lottery_id}: the stored secret does not match its commitment")
    entrants = repository.read_list(item.entrant_list) if item.entrant_list else []
    if draw.entrants_hash(entrants) != item.entrants_hash:
        raise RuntimeError(f"lottery {item.lottery_id}: the frozen list does not match its hash")
    k = min(int(item.winners_count), len(entrants))
    drawn = draw.winners(item.lottery_id, secret, entrants, got.randomness, k)
    info["beacon"] = got.as_dict()
    prize_kind = item.prize["kind"]
    claim_by = now + CLAIM_WINDOW
    tx = Tx()
    winners_public = []
    new_winners = []
    for position, entrant in enumerate(drawn):
        entry = repository.get_entry(item.lottery_id, entrant)
        user_id = entry.user_id if entry else ""
        nickname = _masked_nickname(user_id)
        w = _new_winner(item, position, position + 1, entrant, user_id, nickname, claim_by)
        new_winners.append(w)
        tx.put(f"winner{position}", w, WinnerItem.pk.does_not_exist())
        tx.put(f"won{position}", WonItem(*WonItem.key(item.lottery_id, user_id), position=position),
               WonItem.pk.does_not_exist())
        winners_public.append({"rank": position + 1, "entrant": entrant, "nickname": nickname})
    next_at = _settle_due(new_winners, now)
    tx.update("lottery", LotteryItem(*LotteryItem.key(item.lottery_id)), [
        LotteryItem.state.set("drawn"), LotteryItem.secret.set(secret), LotteryItem.beacon.set(info),
        LotteryItem.positions.set(len(drawn)), LotteryItem.drawn_at.set(iso(now)),
        *_due_actions(item.lottery_id, next_at)], LotteryItem.state == "closed")
    _outbox(tx, item.pk, [LotteryDrawn(lottery_id=item.lottery_id, room_id=item.room_id, entrants=len(entrants),
                                       winners=winners_public, prize_kind=prize_kind, prize_name=item.prize["name"],
                                       beacon_round=got.round, beacon_randomness=got.randomness)])
    try:
        tx.commit()
    except TxCancelled:
        return None, None              # drawn by another runner
    repository.flush_outbox(item.pk)
    item = repository.get_lottery(item.lottery_id, consistent=True)
    for w in new_winners:
        _notify_winner(item, w)
    _settle(item, now)
    return "draw", next_at


def _masked_nickname(user_id: str) -> str | None:
    name = identity.nickname(user_id) if user_id else None
    if not name:
        return None
    return name[0] + "*" * min(4, max(1, len(name) - 1))


def _new_winner(item: LotteryItem, position: int, rank: int, entrant: str, user_id: str, nickname: str | None,
                claim_by: datetime) -> WinnerItem:
    physical = item.prize["kind"] in PHYSICAL
    return WinnerItem(*WinnerItem.key(item.lottery_id, position), rank=rank, position=position, entrant=entrant,
                      user_id=user_id, nickname=nickname, state="pending" if physical else "granting",
                      claim_by=iso(claim_by) if physical else None,
                      claim_by_epoch=int(claim_by.timestamp()) if physical else None)


def _settle_due(winners: list[WinnerItem], now: datetime) -> datetime | None:
    """When the lottery next needs the clock: a grant to retry now, or the earliest claim deadline."""
    if any(w.state == "granting" for w in winners):
        return now + timedelta(seconds=30)
    deadlines = [int(w.claim_by_epoch) for w in winners if w.state == "pending" and w.claim_by_epoch]
    return datetime.fromtimestamp(min(deadlines), timezone.utc) if deadlines else None


def _due_actions(lottery_id: str, at: datetime | None) -> list:
    if at is None:
        return [LotteryItem.gsi1pk.remove(), LotteryItem.gsi1sk.remove()]
    return [LotteryItem.gsi1pk.set(repository.DUE), LotteryItem.gsi1sk.set(repository.due_key(at.timestamp(),
                                                                                              lottery_id))]


def _notify_winner(item: LotteryItem, w: WinnerItem) -> None:
    if not w.user_id:
        return
    interaction.notify_user(item.room_id, w.user_id, {
        "type": "lottery_won", "room_id": item.room_id, "at": iso(utcnow()),
        "data": {"lottery_id": item.lottery_id, "rank": int(w.rank), "prize": item.prize,
                 "claim_by": w.claim_by,
                 "claim_path": f"/v1/lotteries/{item.lottery_id}/winners/me/address" if w.claim_by else None}})


def _grant(item: LotteryItem, w: WinnerItem) -> None:
    """Coupons and points, once per prize (the ref is the lottery and the shuffle position)."""
    ref = f"lottery-{item.lottery_id}-{int(w.position)}"
    prize = item.prize
    detail = None
    state = "granted"
    try:
        if prize["kind"] == "points":
            marketing.award_points(w.user_id, int(prize["points"]), reason="lottery", ref=ref)
        else:
            detail = marketing.grant_coupon(w.user_id, prize["template_id"], ref=ref)
    except problems.Problem as exc:     # the template ran out or expired: the host sees why
        state, detail = "failed", exc.code
    WinnerItem(*WinnerItem.key(item.lottery_id, int(w.position))).update(
        actions=[WinnerItem.state.set(state), WinnerItem.detail.set(detail)] if detail else
        [WinnerItem.state.set(state)], condition=WinnerItem.state == "granting")


def _settle(item: LotteryItem, now: datetime) -> tuple[str | None, datetime | None]:
    """Grant instant prizes; past the 24 h, forfeit unclaimed physical prizes (and redraw them if chosen)."""
    ran = None
    for w in repository.winners_of(item.lottery_id):
        if w.state == "granting":
            _grant(item, w)
            ran = "grant"
        elif w.state == "pending" and w.claim_by_epoch and now.timestamp() >= int(w.claim_by_epoch):
            if _forfeit(item, w, now):
                ran = "forfeit"
                item = repository.get_lottery(item.lottery_id, consistent=True)
    next_at = _settle_due(repository.winners_of(item.lottery_id), now)
    LotteryItem(*LotteryItem.key(item.lottery_id)).update(actions=_due_actions(item.lottery_id, next_at))
    return ran, next_at


def _forfeit(item: LotteryItem, w: WinnerItem, now: datetime) -> bool:
    redraw = item.on_unclaimed == "redraw"
    tx = Tx().update("winner", WinnerItem(*WinnerItem.key(item.lottery_id, int(w.position))),
                     [WinnerItem.state.set("forfeited")], WinnerItem.state == "pending")
    events: list[DomainEvent] = [LotteryPrizeForfeited(lottery_id=item.lottery_id, room_id=item.room_id,
                                                       rank=int(w.rank), user_id=w.user_id, redraw=redraw)]
    new = None
    if redraw:
        entrants = repository.read_list(item.entrant_list) if item.entrant_list else []
        position = int(item.positions)
        if position < len(entrants):
            order = draw.winners(item.lottery_id, item.secret, entrants, item.beacon["beacon"]["randomness"],
                                 position + 1)
            entrant = order[position]
            entry = repository.get_entry(item.lottery_id, entrant)
            user_id = entry.user_id if entry else ""
            new = _new_winner(item, position, int(w.rank), entrant, user_id, _masked_nickname(user_id),
                              now + CLAIM_WINDOW)
            tx.put("redraw", new, WinnerItem.pk.does_not_exist())
            tx.put("won", WonItem(*WonItem.key(item.lottery_id, user_id), position=position),
                   WonItem.pk.does_not_exist())
            tx.update("lottery", LotteryItem(*LotteryItem.key(item.lottery_id)),
                      [LotteryItem.positions.set(position + 1)], LotteryItem.positions == position)
            events.append(LotteryRedrawn(lottery_id=item.lottery_id, room_id=item.room_id, rank=int(w.rank),
                                         entrant=entrant, nickname=new.nickname))
    _outbox(tx, item.pk, events)
    try:
        tx.commit()
    except TxCancelled:
        return False
    repository.flush_outbox(item.pk)
    if new is not None:
        _notify_winner(item, new)
    return True


# -- winners' addresses ------------------------------------------------------------------

def _mask_address(body: AddressRequest) -> dict:
    return {"name": body.name[0] + "*" * max(1, len(body.name) - 1), "phone": body.phone[:3] + "****" + body.phone[-4:],
            "region": body.region, "address": body.address[:4] + "***"}


def claim_address(caller: Caller, lottery_id: str, body: AddressRequest) -> Claim:
    item = _visible_lottery(caller, lottery_id)
    position = repository.won_position(lottery_id, caller.user_id) if item.state == "drawn" else None
    w = repository.get_winner(lottery_id, position) if position is not None else None
    if w is None:
        raise problems.Forbidden("You did not win this lottery.", code="not_a_winner")
    if item.prize["kind"] not in PHYSICAL:
        raise problems.Conflict("This prize needs no address: it is in your account already.",
                                code="no_address_needed")
    if w.state == "claimed":
        raise problems.Conflict("You have given your address for this prize already.", code="already_claimed")
    now = utcnow()
    if w.state == "forfeited" or (w.claim_by_epoch and now.timestamp() >= int(w.claim_by_epoch)):
        raise problems.Conflict("The 24 hours to claim this prize are over.", code="claim_expired")
    ciphertext = _encrypt(json.dumps(body.model_dump(), ensure_ascii=False).encode(), lottery_id,
                          f"address:{caller.user_id}")
    masked = _mask_address(body)
    at = iso(now)
    tx = Tx()
    # The prize ships through the fulfilment path: its zero-amount order (born paid, a product prize's
    # unit taken from the product's stock) commits with the claim, or neither does.
    order_id = orders.add_prize_order(tx, lottery_id=lottery_id, rank=int(w.rank), user_id=caller.user_id,
                                      room_id=item.room_id, prize_kind=item.prize["kind"], name=item.prize["name"],
                                      address=body.model_dump(exclude_none=True),
                                      product_id=item.prize.get("product_id"))
    tx.update("winner", WinnerItem(*WinnerItem.key(lottery_id, int(w.position))), [
        WinnerItem.state.set("claimed"), WinnerItem.address_ciphertext.set(ciphertext),
        WinnerItem.address_masked.set(masked), WinnerItem.claimed_at.set(at), WinnerItem.order_id.set(order_id)],
        (WinnerItem.state == "pending") & (WinnerItem.claim_by_epoch > int(now.timestamp())))
    _outbox(tx, item.pk, [LotteryPrizeClaimed(lottery_id=lottery_id, room_id=item.room_id, rank=int(w.rank),
                                              user_id=caller.user_id, prize_kind=item.prize["kind"])])
    try:
        tx.commit()
    except TxCancelled as exc:
        if "winner" not in exc and orders.prize_order_failure(exc) == "out_of_stock":
            _forfeit_out_of_stock(item, w)
            raise problems.Conflict("The prize product is out of stock: the prize is forfeited and the host "
                                    "is told.", code="prize_out_of_stock") from exc
        raise problems.Conflict("The prize was claimed or forfeited meanwhile.", code="claim_expired") from exc
    repository.flush_outbox(item.pk)
    return Claim(lottery_id=lottery_id, rank=int(w.rank), prize_state="claimed", claimed_at=at, address=masked,
                 order_id=order_id)


def _forfeit_out_of_stock(item: LotteryItem, w: WinnerItem) -> None:
    """A product prize with no unit left: forfeited (not redrawn: the next winner would find no unit
    either); the host sees `forfeited` with detail `out_of_stock`."""
    tx = Tx().update("winner", WinnerItem(*WinnerItem.key(item.lottery_id, int(w.position))),
                     [WinnerItem.state.set("forfeited"), WinnerItem.detail.set("out_of_stock")],
                     WinnerItem.state == "pending")
    _outbox(tx, item.pk, [LotteryPrizeForfeited(lottery_id=item.lottery_id, room_id=item.room_id, rank=int(w.rank),
                                                user_id=w.user_id, redraw=False, reason="out_of_stock")])
    try:
        tx.commit()
    except TxCancelled:
        return                          # claimed or forfeited meanwhile: nothing to do
    repository.flush_outbox(item.pk)


def winner_address(lottery_id: str, user_id: str) -> dict | None:
    """The full address for shipping (the host's fulfilment; decrypted with its encryption context)."""
    position = repository.won_position(lottery_id, user_id)
    w = repository.get_winner(lottery_id, position) if position is not None else None
    if w is None or not w.address_ciphertext:
        return None
    return json.loads(_decrypt(w.address_ciphertext, lottery_id, f"address:{user_id}"))


# -- the proof ---------------------------------------------------------------------------

INLINE_ENTRANTS = 20_000     # longer frozen lists: the proof links the object (entrants_url) instead


def proof(caller: Caller | None, lottery_id: str) -> Proof:
    item = _visible_lottery(caller, lottery_id)
    entrants = url = None
    count = int(item.entrants) if item.entrants is not None else None
    if item.state in ("closed", "drawn") and item.entrant_list:
        url = repository.list_url(item.entrant_list)
        if (count or 0) <= INLINE_ENTRANTS:
            entrants = repository.read_list(item.entrant_list)
    elif item.state in ("closed", "drawn"):
        entrants = []
    drawn = None
    if item.state == "drawn":
        drawn = [{"position": int(w.position), "entrant": w.entrant, "rank": int(w.rank), "state": w.state}
                 for w in sorted(repository.winners_of(lottery_id), key=lambda w: int(w.position))]
    return Proof(version=draw.VERSION, lottery_id=lottery_id, room_id=item.room_id, state=item.state,
                 winners_count=int(item.winners_count), salt=item.salt, commitment=item.commitment,
                 secret=item.secret, entrants_hash=item.entrants_hash, closed_at=item.closed_at,
                 entrants_count=count if item.state in ("closed", "drawn") else None, entrants=entrants,
                 entrants_url=url, beacon=item.beacon,
                 positions=int(item.positions) if item.positions is not None else None, drawn=drawn,
                 algorithm=ALGORITHM)

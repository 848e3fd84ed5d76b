"""Interaction data access: messages, like counters, moderation, settings,
fixed-window counters and the coalescing gates. Every check that must hold
under concurrency is a conditional write (no read-then-write)."""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any, Iterator

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError
from pynamodb.expressions.condition import size

from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.interaction.storage import (CounterItem, FeedPageItem, GateItem, LikeShardItem, MessageItem,
                                              ModerationItem, SettingsItem, bind_all)
from livecommerce.shared import dynamo, paging
from livecommerce.shared.clock import now_iso
from livecommerce.shared.ids import _encode  # ULID time prefix for the key range
from livecommerce.shared.ttl_cache import TtlCache

_settings_cache: TtlCache[str, SettingsItem | None] = TtlCache(5.0)


def _conditional_failed(exc: Exception) -> bool:
    return dynamo.error_code(exc) == "ConditionalCheckFailedException"


def _raise_unless_condition(exc: Exception) -> None:
    if _conditional_failed(exc):
        return
    dynamo.raise_if_retryable(exc)
    raise exc


def _update_if(item: Any, actions: list[Any], condition: Any) -> bool:
    """One conditional UpdateItem on `item`: True when it was written, False when `condition`
    did not hold; any other error is raised (retryable ones as dynamo.raise_if_retryable does)."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        _raise_unless_condition(exc)
        return False
    return True


# -- settings ----------------------------------------------------------------------

def get_room_settings(room_id: str, *, cached: bool = True) -> SettingsItem | None:
    def load() -> SettingsItem | None:
        bind_all()
        try:
            return SettingsItem.get(*SettingsItem.key(room_id), consistent_read=not cached)
        except DoesNotExist:
            return None

    return _settings_cache.get(room_id, load, fresh=not cached)


def settings_cache() -> TtlCache[str, SettingsItem | None]:
    return _settings_cache


def put_room_settings(room_id: str, *, quick_phrases: list[str] | None, blocked_words: list[str] | None,
                      updated_by: str, delivery: str | None = None) -> SettingsItem:
    """The host's settings, written field by field (UpdateItem), so the audience rule's fields on the
    same item (record_audience) are never overwritten by a settings change made at the same time."""
    bind_all()
    item = SettingsItem(*SettingsItem.key(room_id))
    actions = [SettingsItem.updated_by.set(updated_by), SettingsItem.updated_at.set(now_iso())]
    for attribute, value in ((SettingsItem.quick_phrases, quick_phrases), (SettingsItem.blocked_words, blocked_words),
                             (SettingsItem.delivery, delivery)):
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    item.update(actions=actions)
    _settings_cache.pop(room_id)
    return item


def record_audience(room_id: str, *, mode: str, switched_at_ms: int, viewers: int,
                    expected_switched_at_ms: int | None) -> bool:
    """Record the audience rule's switch if nobody recorded another since `expected_switched_at_ms`
    (None: never switched): one conditional write, so two ticks of a room switch it once."""
    bind_all()
    seen = (SettingsItem.audience_switched_ms.does_not_exist() if expected_switched_at_ms is None
            else SettingsItem.audience_switched_ms == expected_switched_at_ms)
    try:
        return _update_if(
            SettingsItem(*SettingsItem.key(room_id)),
            [SettingsItem.audience_mode.set(mode), SettingsItem.audience_switched_ms.set(switched_at_ms),
             SettingsItem.audience_viewers.set(viewers)],
            seen)
    finally:
        _settings_cache.pop(room_id)


def undo_audience(room_id: str, *, mode: str, switched_at_ms: int | None, undone_switched_at_ms: int) -> bool:
    """Put back the decision before `undone_switched_at_ms` (its announcement could not be published,
    so the next tick tries again)."""
    bind_all()
    actions = [SettingsItem.audience_mode.set(mode), SettingsItem.audience_switched_ms.set(switched_at_ms)] \
        if switched_at_ms is not None else [SettingsItem.audience_mode.remove(), SettingsItem.audience_switched_ms.remove()]
    try:
        return _update_if(SettingsItem(*SettingsItem.key(room_id)), actions,
                          SettingsItem.audience_switched_ms == undone_switched_at_ms)
    finally:
        _settings_cache.pop(room_id)


def record_poll_interval(room_id: str, *, interval_ms: int, expected_ms: int | None) -> bool:
    """Record the room's feed cadence if it is still `expected_ms` (None: never recorded): one
    conditional write, so two ticks of a room change it (and announce it) once."""
    bind_all()
    seen = (SettingsItem.poll_interval_ms.does_not_exist() if expected_ms is None
            else SettingsItem.poll_interval_ms == expected_ms)
    try:
        return _update_if(SettingsItem(*SettingsItem.key(room_id)), [SettingsItem.poll_interval_ms.set(interval_ms)],
                          seen)
    finally:
        _settings_cache.pop(room_id)


def clear_caches() -> None:
    _settings_cache.clear()


# -- moderation --------------------------------------------------------------------

def get_moderation(room_id: str, user_id: str) -> ModerationItem | None:
    bind_all()
    try:
        return ModerationItem.get(*ModerationItem.key(room_id, user_id), consistent_read=True)
    except DoesNotExist:
        return None


def set_moderation(room_id: str, user_id: str, *, by: str, muted_until: int | None = None,
                   clear_mute: bool = False, banned: bool | None = None, reason: str | None = None) -> ModerationItem:
    bind_all()
    item = ModerationItem(*ModerationItem.key(room_id, user_id))
    actions = [ModerationItem.room_id.set(room_id), ModerationItem.user_id.set(user_id),
               ModerationItem.updated_by.set(by), ModerationItem.updated_at.set(now_iso()),
               # A sender's concurrent message (write_speech) sees the version move and reads again,
               # so a mute or a ban is never lost between its read and its write; the item is kept.
               ModerationItem.v.add(1), ModerationItem.expires_at.remove()]
    if muted_until is not None:
        actions.append(ModerationItem.muted_until.set(muted_until))
    if clear_mute:
        actions.append(ModerationItem.muted_until.remove())
    if banned is not None:
        actions.append(ModerationItem.banned.set(banned))
        actions.append(ModerationItem.reason.set(reason) if reason and banned else ModerationItem.reason.remove())
    item.update(actions=actions)
    return item


# The room's muted and banned viewers (GET /v1/rooms/{room_id}/moderation). The MOD# items of a room
# also hold every sender's danmaku state, so a request reads at most MODERATION_SCAN_PAGES pages of
# MODERATION_SCAN_PAGE records and hands out a cursor where it stopped.
MODERATION_OF_ROOM = paging.listing("interaction/moderation-of-room", key_attributes=("pk", "sk"),
                                    partition_attribute="pk")
MODERATION_SCAN_PAGE = 200
MODERATION_SCAN_PAGES = 5


def moderated_users(room_id: str, *, now_s: int, limit: int,
                    cursor: str | None) -> tuple[list[ModerationItem], str | None]:
    """Viewers of the room banned, or muted past `now_s`, in user-id order; and the next cursor."""
    bind_all()
    partition = f"ROOM#{room_id}"
    start = paging.decode(cursor, MODERATION_OF_ROOM, partition=partition, owner=None)
    result = ModerationItem.query(
        partition, ModerationItem.sk.startswith("MOD#"),
        filter_condition=(ModerationItem.banned == True) | (ModerationItem.muted_until > now_s),  # noqa: E712
        last_evaluated_key=start, page_size=MODERATION_SCAN_PAGE, consistent_read=True)
    pages = result.page_iter
    found: list[ModerationItem] = []
    last: dict[str, Any] | None = None
    for read, page in enumerate(pages, start=1):
        for raw in page.get("Items", []):
            found.append(ModerationItem.from_raw_data(raw))
            if len(found) == limit:      # stop after this one: the next page starts behind it
                last = {"pk": raw["pk"], "sk": raw["sk"]}
                return found, paging.encode(last, MODERATION_OF_ROOM, partition=partition, owner=None)
        last = pages.last_evaluated_key
        if not last or read >= MODERATION_SCAN_PAGES:
            break
    return found, paging.encode(last, MODERATION_OF_ROOM, partition=partition, owner=None)


def write_speech(room_id: str, user_id: str, speech: dict[str, Any], *, read_version: int | None,
                 expires_at: int | None) -> bool:
    """Write a sender's danmaku state back unless the item changed since it was read
    (False: read again). `expires_at` only for an item that holds no mute or ban."""
    bind_all()
    item = ModerationItem(*ModerationItem.key(room_id, user_id))
    actions = [ModerationItem.room_id.set(room_id), ModerationItem.user_id.set(user_id),
               ModerationItem.speech.set(speech), ModerationItem.v.add(1)]
    if expires_at is not None:
        actions.append(ModerationItem.expires_at.set(expires_at))
    condition = (ModerationItem.v.does_not_exist() if read_version is None
                 else ModerationItem.v == read_version)
    return _update_if(item, actions, condition)


# -- the feed (poll mode) -------------------------------------------------------------

FEED_PAGE_TTL_SECONDS = 600


def put_feed_page(room_id: str, message: dict[str, Any], at_ms: int) -> int:
    """Number the batch (one ADD on the room's sequence) and keep it as a page; its seq."""
    bind_all()
    connection = CounterItem._get_connection()
    data = connection.update_item(f"ROOM#{room_id}", range_key="FEEDSEQ", actions=[CounterItem.n.add(1)],
                                  return_values="UPDATED_NEW")
    seq = int(float(data["Attributes"]["n"]["N"]))
    FeedPageItem(*FeedPageItem.key(room_id, seq), seq=seq, at_ms=at_ms, message=message,
                 expires_at=int(time.time()) + FEED_PAGE_TTL_SECONDS).save()
    return seq


def latest_feed_seq(room_id: str) -> int:
    """The room's last numbered feed page (0: none yet): where a client joining now starts polling."""
    return read_counter(f"ROOM#{room_id}", "FEEDSEQ")


def feed_pages(room_id: str, *, after: int, limit: int) -> list[FeedPageItem]:
    bind_all()
    return list(FeedPageItem.query(f"ROOM#{room_id}", FeedPageItem.sk.between(f"FEED#{after + 1:012d}", "FEED#~"),
                                   limit=limit, consistent_read=False))


# -- counters ------------------------------------------------------------------------

def hit_window(pk: str, sk: str, *, limit: int, expires_at: int) -> bool:
    """Count one event in a fixed window; False (nothing counted) once `limit` is reached."""
    bind_all()
    item = CounterItem(pk, sk)
    return _update_if(item, [CounterItem.n.add(1), CounterItem.expires_at.set(expires_at)],
                      CounterItem.n.does_not_exist() | (CounterItem.n < limit))


def add_capped(pk: str, sk: str, *, amount: int, cap: int, expires_at: int) -> bool:
    """Add `amount` to a window counter unless that would pass `cap`."""
    bind_all()
    item = CounterItem(pk, sk)
    return _update_if(item, [CounterItem.n.add(amount), CounterItem.expires_at.set(expires_at)],
                      CounterItem.n.does_not_exist() | (CounterItem.n <= cap - amount))


def read_counter(pk: str, sk: str) -> int:
    bind_all()
    try:
        return int(CounterItem.get(pk, sk, consistent_read=True).n or 0)
    except DoesNotExist:
        return 0


def claim_unique(pk: str, sk: str, *, now_s: int, until_s: int) -> bool:
    """Take a key until `until_s`; False while someone else holds it (duplicate)."""
    bind_all()
    item = CounterItem(pk, sk, until=until_s, expires_at=until_s + 60)
    try:
        item.save(condition=CounterItem.pk.does_not_exist() | (CounterItem.until < now_s))
        return True
    except PutError as exc:
        _raise_unless_condition(exc)
        return False


def first_delivery(event_id: str, *, ttl_seconds: int = 24 * 3600) -> bool:
    """True the first time a domain event id is seen (EventBridge delivers at least once)."""
    now = int(time.time())
    return claim_unique(f"EVT#{event_id}", "SEEN", now_s=now, until_s=now + ttl_seconds)


# -- messages ------------------------------------------------------------------------

def put_message(item: MessageItem) -> None:
    bind_all()
    try:
        item.save(condition=MessageItem.pk.does_not_exist())
    except PutError as exc:
        dynamo.raise_if_retryable(exc)
        raise


def get_message(room_id: str, message_id: str) -> MessageItem | None:
    bind_all()
    shards = get_interaction_settings().write_shards
    try:
        return MessageItem.get(*MessageItem.key(room_id, message_id, shards))
    except DoesNotExist:
        return None


def iter_messages(room_id: str, *, since_ms: int = 0, until_ms: int | None = None) -> Iterator[MessageItem]:
    """Every stored message of a room in time order (replay, keyword lotteries)."""
    bind_all()

    shards = get_interaction_settings().write_shards
    low = f"MSG#{_encode(max(0, since_ms), 10)}"
    high = f"MSG#{_encode(until_ms, 10)}~" if until_ms is not None else "MSG#~"
    found: list[MessageItem] = []
    for shard in range(shards):
        found.extend(MessageItem.query(f"DM#{room_id}#{shard}", MessageItem.sk.between(low, high)))
    yield from sorted(found, key=lambda m: m.sk)


# -- likes ---------------------------------------------------------------------------

def add_likes(room_id: str, amount: int) -> None:
    bind_all()
    shards = get_interaction_settings().like_shards
    item = LikeShardItem(*LikeShardItem.key(room_id, random.randrange(shards)))
    try:
        item.update(actions=[LikeShardItem.count.add(amount), LikeShardItem.room_id.set(room_id)])
    except UpdateError as exc:
        dynamo.raise_if_retryable(exc)
        raise


def like_total(room_id: str) -> int:
    bind_all()
    shards = get_interaction_settings().like_shards
    keys = [LikeShardItem.key(room_id, n) for n in range(shards)]
    return sum(int(i.count or 0) for i in LikeShardItem.batch_get(keys, consistent_read=True))


# -- gates -----------------------------------------------------------------------------

def _gate(room_id: str, name: str) -> GateItem:
    bind_all()
    return GateItem(*GateItem.key(room_id, name))


def try_gate(room_id: str, name: str, *, now_ms: int, interval_ms: int) -> bool:
    """Take the publish slot: at most one publish per `interval_ms` per gate."""
    item = _gate(room_id, name)
    return _update_if(item, [GateItem.last_ms.set(now_ms)],
                      GateItem.last_ms.does_not_exist() | (GateItem.last_ms <= now_ms - interval_ms))


def read_gate(room_id: str, name: str) -> GateItem | None:
    bind_all()
    try:
        return GateItem.get(*GateItem.key(room_id, name), consistent_read=True)
    except DoesNotExist:
        return None


def claim_trailing(room_id: str, name: str, *, until_ms: int) -> bool:
    """Become the one publisher that waits for `until_ms` (the end of the closed window)."""
    item = _gate(room_id, name)
    return _update_if(item, [GateItem.trailing_ms.set(until_ms)],
                      GateItem.trailing_ms.does_not_exist() | (GateItem.trailing_ms < until_ms))


def store_pending(room_id: str, name: str, value: dict[str, Any], version: str) -> bool:
    """Keep `value` as the one to publish next unless a newer one is pending or published."""
    item = _gate(room_id, name)
    newer_pending = GateItem.pending_version.exists() & (GateItem.pending_version >= version)
    newer_published = GateItem.published_version.exists() & (GateItem.published_version >= version)
    return _update_if(item, [GateItem.pending.set(value), GateItem.pending_version.set(version)],
                      ~(newer_pending | newer_published))


def take_pending(room_id: str, name: str, *, now_ms: int, interval_ms: int) -> tuple[bool, dict | None]:
    """Take the publish slot and the pending value at once (ALL_OLD): (taken, value).
    Not taken when the slot is closed or nothing is pending (see read_gate)."""
    item = _gate(room_id, name)
    connection = GateItem._get_connection()
    try:
        data = connection.update_item(
            item.pk, range_key=item.sk,
            actions=[GateItem.last_ms.set(now_ms), GateItem.pending.remove(),
                     GateItem.published_version.set(GateItem.pending_version)],
            condition=GateItem.pending.exists() & (GateItem.last_ms.does_not_exist()
                                                   | (GateItem.last_ms <= now_ms - interval_ms)),
            return_values="ALL_OLD")
    except UpdateError as exc:
        _raise_unless_condition(exc)
        return False, None
    old = (data or {}).get("Attributes") or {}
    raw = (old.get("pending") or {}).get("S")
    return True, (json.loads(raw) if raw else None)


def enqueue(room_id: str, name: str, cards: list[dict[str, Any]]) -> None:
    """Append entries to the gate's queue (timed-metadata cards, danmaku shares)."""
    item = _gate(room_id, name)
    encoded = [json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in cards]
    item.update(actions=[GateItem.cards.set((GateItem.cards | []).append(encoded))])


def take_queue(room_id: str, name: str, *, now_ms: int, interval_ms: int) -> tuple[bool, list[dict[str, Any]]]:
    """Take the publish slot and every queued entry at once: (slot taken, entries)."""
    item = _gate(room_id, name)
    connection = GateItem._get_connection()
    try:
        data = connection.update_item(
            item.pk, range_key=item.sk,
            actions=[GateItem.last_ms.set(now_ms), GateItem.cards.remove(), GateItem.queued.remove()],
            condition=GateItem.last_ms.does_not_exist() | (GateItem.last_ms <= now_ms - interval_ms),
            return_values="ALL_OLD")
    except UpdateError as exc:
        _raise_unless_condition(exc)
        return False, []
    old = (data or {}).get("Attributes") or {}
    values = ((old.get("cards") or {}).get("L")) or []
    return True, [json.loads(v["S"]) for v in values if "S" in v]


def take_batch(room_id: str, name: str, *, now_ms: int,
               interval_ms: int) -> tuple[bool, list[dict[str, Any]], int | None, bool]:
    """take_queue for the danmaku gate, which also carries the room's like total: the same one write
    takes the slot, the queue and the recorded like total (ALL_OLD; marked sent): (taken, entries, total
    or None when none was recorded, whether that total is newer than any delivery carried)."""
    item = _gate(room_id, name)
    connection = GateItem._get_connection()
    try:
        data = connection.update_item(
            item.pk, range_key=item.sk,
            actions=[GateItem.last_ms.set(now_ms), GateItem.cards.remove(), GateItem.queued.remove(),
                     GateItem.likes_sent.set(GateItem.likes_total | 0)],
            condition=GateItem.last_ms.does_not_exist() | (GateItem.last_ms <= now_ms - interval_ms),
            return_values="ALL_OLD")
    except UpdateError as exc:
        _raise_unless_condition(exc)
        return False, [], None, False
    old = (data or {}).get("Attributes") or {}
    values = ((old.get("cards") or {}).get("L")) or []
    total = _number(old, "likes_total")
    return (True, [json.loads(v["S"]) for v in values if "S" in v], total,
            total is not None and total > (_number(old, "likes_sent") or 0))


@dataclass(frozen=True)
class LikesNoted:
    """The gate after a like total was recorded on it (None fields: never set)."""
    recorded: bool            # False: the gate already holds this total or a higher one
    last_ms: int | None       # the gate's last delivery (batch or like message)
    sent: int                 # the highest total a delivery carried


def note_likes(room_id: str, name: str, total: int) -> LikesNoted:
    """Record `total` as the room's like total for the next batch (only if higher: totals only grow)."""
    item = _gate(room_id, name)
    connection = GateItem._get_connection()
    try:
        data = connection.update_item(
            item.pk, range_key=item.sk, actions=[GateItem.likes_total.set(total)],
            condition=GateItem.likes_total.does_not_exist() | (GateItem.likes_total < total),
            return_values="ALL_NEW")
    except UpdateError as exc:
        _raise_unless_condition(exc)
        return LikesNoted(recorded=False, last_ms=None, sent=0)
    new = (data or {}).get("Attributes") or {}
    return LikesNoted(recorded=True, last_ms=_number(new, "last_ms"), sent=_number(new, "likes_sent") or 0)


def send_likes(room_id: str, name: str, total: int, *, now_ms: int, idle_ms: int) -> bool:
    """Take the gate's slot for a separate like message carrying `total`: only when nothing went out
    for `idle_ms` (density.like_message_due) and no delivery carried this total yet. One write; the
    slot it takes keeps batches and like messages together at most one per batch interval."""
    item = _gate(room_id, name)
    return _update_if(item, [GateItem.last_ms.set(now_ms), GateItem.likes_sent.set(total)],
                      (GateItem.last_ms.does_not_exist() | (GateItem.last_ms <= now_ms - idle_ms))
                      & (GateItem.likes_sent.does_not_exist() | (GateItem.likes_sent < total)))


def claim_likes_check(room_id: str, name: str, *, now_ms: int, until_ms: int) -> bool:
    """Become the one who checks at `until_ms` that the recorded like total went out, unless a check
    is already pending at or after `now_ms` (it covers this total: it was asked for at most `idle_ms`
    ago, so it runs at most `idle_ms` from now)."""
    item = _gate(room_id, name)
    return _update_if(item, [GateItem.likes_check_ms.set(until_ms)],
                      GateItem.likes_check_ms.does_not_exist() | (GateItem.likes_check_ms < now_ms))


@dataclass(frozen=True)
class Offered:
    """The gate after an offer: when its slot was last taken, who waits for the next
    one, and how many entries were offered since the queue was last taken."""
    accepted: bool
    last_ms: int | None
    trailing_ms: int | None
    queued: int


def offer(room_id: str, name: str, entry: dict[str, Any], *, cap: int | None) -> Offered:
    """Append one entry to the gate's queue in one write. With `cap`, a full queue
    refuses it (accepted False): a hot room's gate item stays small, so each write
    stays cheap on its partition."""
    item = _gate(room_id, name)
    connection = GateItem._get_connection()
    encoded = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    condition = None
    if cap is not None:
        condition = GateItem.cards.does_not_exist() | (size(GateItem.cards) < cap)
    try:
        data = connection.update_item(
            item.pk, range_key=item.sk,
            actions=[GateItem.cards.set((GateItem.cards | []).append([encoded])), GateItem.queued.add(1)],
            condition=condition, return_values="ALL_NEW")
    except UpdateError as exc:
        _raise_unless_condition(exc)
        # Full: entries are waiting, so a publisher of this slot is already on its way.
        return Offered(accepted=False, last_ms=None, trailing_ms=None, queued=cap or 0)
    attrs = (data or {}).get("Attributes") or {}
    return Offered(accepted=True, last_ms=_number(attrs, "last_ms"), trailing_ms=_number(attrs, "trailing_ms"),
                   queued=int(_number(attrs, "queued") or 0))


def _number(attrs: dict[str, Any], name: str) -> int | None:
    raw = (attrs.get(name) or {}).get("N")
    return int(float(raw)) if raw is not None else None


def requeue(room_id: str, name: str, cards: list[dict[str, Any]]) -> None:
    item = _gate(room_id, name)
    encoded = [json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in cards]
    item.update(actions=[GateItem.cards.set((GateItem.cards | []).prepend(encoded))])


def forget_delivery(event_id: str) -> None:
    bind_all()
    try:
        CounterItem(f"EVT#{event_id}", "SEEN").delete()
    except Exception:  # noqa: BLE001 - best effort; the event is then dropped as a repeat
        pass


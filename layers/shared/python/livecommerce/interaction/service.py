"""Interaction rules: who may say what in a room, how often, and what it
reaches. No HTTP here."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from livecommerce import identity, rooms
from livecommerce.interaction import delivery, feed, moderation, repository, room_state, speech, topics
from livecommerce.interaction.density import Candidate, max_deliveries_per_second
from livecommerce.interaction.limits import clamp_likes, retry_after, window_end, window_index
from livecommerce.interaction.models import (Danmaku, DanmakuRequest, DanmakuSettings, DanmakuSettingsRequest,
                                             FeedPage, RoomFeed,
                                             Density, LikesAccepted, LikesRequest, ModeratedUser, Moderation,
                                             ModerationPage, Realtime,
                                             RealtimeCredentials, ReplyRef, Topic)
from livecommerce.interaction.realtime import PublishFailed, mqtt_url, publish, publish_best_effort
from livecommerce.interaction.settings import get_interaction_settings
from livecommerce.interaction.storage import MessageItem
from livecommerce.interaction.together import together
from livecommerce.shared import problems, tokens
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import iso, now_iso
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger
from livecommerce.shared.ttl_cache import TtlCache

ENDED = "ended"
KEEPALIVE_SECONDS = 60
# Every danmaku and like of a crowded room reads the same room item: a second of caching
# per container keeps that one DynamoDB item from becoming a hot key (thousands of reads
# a second). The cost: for up to a second after the host ends the live, a container that
# has just seen it open may still take a message or a like.
_rooms: TtlCache[str, rooms.RoomRef | None] = TtlCache(1.0)
_nicknames: TtlCache[str, str | None] = TtlCache(60.0)


# -- access ----------------------------------------------------------------------

def _can_run(caller: Caller, room: rooms.RoomRef) -> bool:
    return room.run_by(caller.user_id, caller.roles)


def load_room(caller: Caller, room_id: str, *, open_only: bool = True, cached: bool = False) -> rooms.RoomRef:
    """The room if the caller may watch it (test rooms: their host only, as in rooms).
    `cached`: the hot paths (danmaku, likes) may use a copy up to a second old."""
    room = rooms.check_visible(_rooms.get(room_id, lambda: rooms.get_room(room_id), fresh=not cached), caller)
    if open_only and room.status == ENDED:
        raise problems.Conflict("The live has ended; watch the replay.", code="room_ended",
                                replay=f"/v1/rooms/{room_id}/replay")
    return room


def _load_for_moderator(caller: Caller, room_id: str) -> rooms.RoomRef:
    """The room when the caller runs it or assists in it with the `moderate` capability (mutes, bans,
    blocked words and quick phrases): rooms.require_room_staff."""
    return rooms.require_room_staff(caller, room_id, "moderate")


def _check_standing(room_id: str, user_id: str, *, speaking: bool) -> None:
    state = repository.get_moderation(room_id, user_id)
    if state is None:
        return
    if state.banned:
        raise problems.Forbidden("You have been removed from this room.", code="banned")
    if speaking and state.muted_until and state.muted_until > time.time():
        raise problems.Forbidden("The host has muted you for a while.", code="muted",
                                 muted_until=iso_from_epoch(int(state.muted_until)))


def iso_from_epoch(seconds: int) -> str:
    return iso(datetime.fromtimestamp(seconds, timezone.utc))


def _nickname(user_id: str) -> str | None:
    def load() -> str | None:
        return identity.nickname(user_id)

    return _nicknames.get(user_id, load)


def clear_caches() -> None:
    _nicknames.clear()
    _rooms.clear()
    repository.clear_caches()


def _phrases(settings_item: Any) -> list[str]:
    if settings_item is not None and settings_item.quick_phrases is not None:
        return list(settings_item.quick_phrases)
    return list(moderation.DEFAULT_QUICK_PHRASES)


def _invalid(field: str, rejected: moderation.TextRejected) -> problems.Problem:
    return problems.ValidationFailed(f"{field}: {rejected.message}.", errors=[
        {"field": f"body.{field}", "message": rejected.message, "type": rejected.code}])


# -- danmaku ---------------------------------------------------------------------

def send_danmaku(caller: Caller, room_id: str, body: DanmakuRequest) -> Danmaku:
    """At most three AWS round trips before the message is stored (the benchmark and
    tests/integration/interaction/test_danmaku_round_trips.py count them):
      1. the reads, together: the sender's item (standing, rate window, recent texts) and,
         when their per-container caches are cold, the room, the room's settings, the
         sender's nickname and a replied message;
      2. the writes that decide, together: the sender's item back (one conditional write
         on its version, interaction.speech) and, for a non-phrase text, the room's flood
         counter;
      3. the message."""
    cfg = get_interaction_settings()
    try:
        text = moderation.clean_text(body.text, max_chars=cfg.max_text_chars)
    except moderation.TextRejected as rejected:
        raise _invalid("text", rejected) from None

    def reply_original() -> MessageItem | None:
        return repository.get_message(room_id, body.reply_to) if body.reply_to else None

    settings_cache = repository.settings_cache()
    room_hit, room_ref = _rooms.lookup(room_id)
    settings_hit, room_settings = settings_cache.lookup(room_id)
    nickname_hit, nickname = _nicknames.lookup(caller.user_id)
    loaded_room, speaker, loaded_settings, loaded_nickname, original = together(
        None if room_hit else (lambda: rooms.get_room(room_id)),
        lambda: repository.get_moderation(room_id, caller.user_id),
        None if settings_hit else (lambda: repository.get_room_settings(room_id, cached=False)),
        None if nickname_hit else (lambda: identity.nickname(caller.user_id)),
        reply_original if body.reply_to else None)
    if not room_hit:
        room_ref = loaded_room
        _rooms.put(room_id, room_ref)
    if not settings_hit:
        room_settings = loaded_settings
    if not nickname_hit:
        nickname = loaded_nickname
        _nicknames.put(caller.user_id, nickname)
    room = rooms.check_visible(room_ref, caller)
    if room.status == ENDED:
        raise problems.Conflict("The live has ended; watch the replay.", code="room_ended",
                                replay=f"/v1/rooms/{room_id}/replay")
    priority = _can_run(caller, room)
    for attempt in range(_SPEECH_ATTEMPTS):
        if attempt:
            speaker = repository.get_moderation(room_id, caller.user_id)
        _raise_standing(speaker, speaking=True)
        if attempt == 0:
            phrase = _screen(text, room_settings, cfg)
            reply = _reply(priority, body.reply_to, original)
        now = time.time()
        limit = cfg.host_max_messages if priority else cfg.user_max_messages
        key = moderation.text_key(text)
        verdict = speech.decide(speech.Speech.from_json(speaker.speech if speaker else None), now_s=now,
                                text_key=key, limit=limit, window_seconds=cfg.user_window_seconds,
                                duplicate_seconds=cfg.duplicate_window_seconds)
        if verdict.speech is None:
            _raise_verdict(verdict.outcome, now, limit, cfg)
        flood = None
        if verdict.outcome == speech.OK and not phrase and not priority and attempt == 0:
            flood_window = window_index(now, cfg.flood_window_seconds)

            def flood() -> bool:
                return repository.hit_window(f"FLOOD#{room_id}#{key}", f"W#{flood_window}",
                                             limit=cfg.flood_max_identical,
                                             expires_at=window_end(now, cfg.flood_window_seconds) + 60)
        keep_until = None
        if speaker is None or (not speaker.banned and not speaker.muted_until):
            keep_until = int(now) + max(cfg.duplicate_window_seconds, cfg.user_window_seconds) + 86400
        written, flood_ok = together(
            lambda: repository.write_speech(room_id, caller.user_id, verdict.speech.to_json(),
                                            read_version=int(speaker.v) if speaker and speaker.v is not None else None,
                                            expires_at=keep_until),
            flood)
        if flood_ok is False:
            wait = retry_after(now, cfg.flood_window_seconds)
            raise problems.TooManyRequests("Too many identical messages in this room right now.",
                                           code="flood_suppressed", headers={"Retry-After": str(wait)},
                                           retry_after_seconds=wait)
        if written:
            break
        # Someone wrote the sender's item since the read (a mute, a ban, their own other
        # message): read it again and decide again. The flood counter already counted.
    else:
        raise problems.TooManyRequests("Too many messages at once; wait a moment.", code="rate_limited",
                                       headers={"Retry-After": "1"}, retry_after_seconds=1)
    if verdict.outcome != speech.OK:
        _raise_verdict(verdict.outcome, now, limit, cfg)

    message_id = new_ulid()
    item = MessageItem(*MessageItem.key(room_id, message_id, cfg.write_shards), room_id=room_id,
                       message_id=message_id, user_id=caller.user_id, nickname=nickname,
                       text=text, kind="phrase" if phrase else "text", priority=priority, reply_to=reply,
                       at_ms=int(now * 1000), created_at=now_iso(), expires_at=int(now) + cfg.retention_days * 86400)
    repository.put_message(item)
    view = message_view(item)
    # The room's batch first (it may be this call's to publish, and every viewer waits on
    # it); then the sender's own copy, never sampled away.
    show_to_room(item)
    publish_best_effort(topics.private_topic(cfg.stage, room_id, caller.user_id),
                        {"type": "danmaku_ack", "room_id": room_id, "item": view.model_dump(exclude_none=True)})
    if reply is not None and reply["user_id"] != caller.user_id:
        publish_best_effort(topics.private_topic(cfg.stage, room_id, reply["user_id"]),
                            {"type": "host_reply", "room_id": room_id, "item": view.model_dump(exclude_none=True)},
                            qos=1)
    return view


_SPEECH_ATTEMPTS = 4


def _raise_standing(state: Any, *, speaking: bool) -> None:
    if state is None:
        return
    verdict = speech.standing(banned=bool(state.banned),
                              muted_until=float(state.muted_until) if speaking and state.muted_until else None,
                              now_s=time.time())
    if verdict == speech.BANNED:
        raise problems.Forbidden("You have been removed from this room.", code="banned")
    if verdict == speech.MUTED:
        raise problems.Forbidden("The host has muted you for a while.", code="muted",
                                 muted_until=iso_from_epoch(int(state.muted_until)))


def _screen(text: str, room_settings: Any, cfg: Any) -> bool:
    """Whether the text is a quick phrase; blocked words refused (422)."""
    phrase = moderation.is_quick_phrase(text, _phrases(room_settings))
    if not phrase:
        words = cfg.blocked_words + tuple((room_settings.blocked_words or []) if room_settings else [])
        if moderation.find_blocked(text, words):
            # The word is not named: that would teach spammers the list.
            raise problems.ValidationFailed("text: the message contains a word that is not allowed here.",
                                            code="blocked_word", errors=[
                                                {"field": "body.text", "message": "contains a blocked word",
                                                 "type": "blocked_word"}])
    return phrase


def _reply(priority: bool, reply_to: str | None, original: MessageItem | None) -> dict[str, Any] | None:
    if not reply_to:
        return None
    if not priority:
        raise problems.Forbidden("Only the host replies to messages.", code="reply_host_only")
    if original is None:
        raise problems.NotFound("No such message in this room.", code="message_not_found")
    return {"id": original.message_id, "user_id": original.user_id, "nickname": original.nickname,
            "text": original.text}


def _raise_verdict(outcome: str, now: float, limit: int, cfg: Any) -> None:
    if outcome == speech.RATE_LIMITED:
        wait = retry_after(now, cfg.user_window_seconds)
        raise problems.TooManyRequests(
            f"At most {limit} messages every {cfg.user_window_seconds} seconds; wait a moment.",
            code="rate_limited", headers={"Retry-After": str(wait)}, retry_after_seconds=wait)
    if outcome == speech.DUPLICATE:
        raise problems.Conflict("You just sent that; say something new.", code="duplicate_message")


def show_to_room(item: MessageItem) -> None:
    """Offer a stored message to the room's batches (feed). The message is kept and the
    sender has their copy whatever happens here, so a failure is logged, not raised."""
    try:
        feed.offer(item.room_id, Candidate(id=item.message_id, user_id=item.user_id, text=item.text,
                                           at_ms=int(item.at_ms), priority=bool(item.priority),
                                           nickname=item.nickname, reply_to=item.reply_to))
    except Exception:  # noqa: BLE001 - display is best effort (QoS 0), storage is not
        logger.exception("danmaku not offered to the room", extra={"room_id": item.room_id})


def message_view(item: MessageItem) -> Danmaku:
    reply = ReplyRef(**item.reply_to) if item.reply_to else None
    return Danmaku(id=item.message_id, room_id=item.room_id, user_id=item.user_id, nickname=item.nickname,
                   text=item.text, kind=item.kind, host=bool(item.priority), reply_to=reply,
                   created_at=item.created_at)


# -- likes -----------------------------------------------------------------------

def add_likes(caller: Caller, room_id: str, body: LikesRequest) -> LikesAccepted:
    cfg = get_interaction_settings()
    if body.count > cfg.like_max_per_request:
        raise problems.ValidationFailed(f"count: at most {cfg.like_max_per_request} per call.", errors=[
            {"field": "body.count", "message": f"at most {cfg.like_max_per_request}", "type": "less_than_equal"}])
    load_room(caller, room_id, cached=True)
    _check_standing(room_id, caller.user_id, speaking=False)
    now = time.time()
    pk = f"RATE#{room_id}#{caller.user_id}"
    sk = f"LIKES#{window_index(now, cfg.like_user_window_seconds)}"
    expires = window_end(now, cfg.like_user_window_seconds) + 60
    wanted = body.count
    accepted = 0
    for _ in range(4):
        if repository.add_capped(pk, sk, amount=wanted, cap=cfg.like_user_cap, expires_at=expires):
            accepted = wanted
            break
        wanted = clamp_likes(body.count, repository.read_counter(pk, sk), cfg.like_user_cap)
        if wanted <= 0:
            break
    if accepted <= 0:
        wait = retry_after(now, cfg.like_user_window_seconds)
        raise problems.TooManyRequests(
            f"At most {cfg.like_user_cap} likes every {cfg.like_user_window_seconds} seconds.",
            code="like_limit", headers={"Retry-After": str(wait)}, retry_after_seconds=wait)
    repository.add_likes(room_id, accepted)
    return LikesAccepted(room_id=room_id, accepted=accepted, capped=accepted < body.count)


# -- the realtime channel ----------------------------------------------------------

def realtime(caller: Caller, room_id: str, token: str) -> Realtime:
    cfg = get_interaction_settings()
    if not topics.valid_ids(room_id, caller.user_id):
        raise problems.BadRequest("This account cannot use the realtime channel.", code="realtime_unavailable")
    room = load_room(caller, room_id)
    _check_standing(room_id, caller.user_id, speaking=False)
    try:
        claims = tokens.verify(token)
    except tokens.TokenInvalid:
        raise problems.Unauthorized("The token is invalid or expired; log in again.", code="unauthorized") from None
    names = topics.viewer_topics(cfg.stage, room_id, caller.user_id)
    username = room_id
    endpoint = mqtt_url(cfg.realtime_endpoint)
    if cfg.authorizer_name:
        username = f"{room_id}?x-amz-customauthorizer-name={cfg.authorizer_name}"
        if "x-amz-customauthorizer-name" not in endpoint:
            endpoint += ("&" if "?" in endpoint else "?") + f"x-amz-customauthorizer-name={cfg.authorizer_name}"
    likes_per_second = 1000.0 / cfg.like_broadcast_interval_ms
    # The room's settings are read fresh here (one consistent GetItem, which also refreshes this
    # container's copy), together with the like total and the feed's seq: a page reads this again after
    # an MQTT reconnect to catch up a `delivery` message it missed, and a copy up to 5 s old could
    # still name the mode before that switch (docs/web-feed-delivery.md).
    room_settings, likes_total, feed_seq = together(
        lambda: repository.get_room_settings(room_id, cached=False),
        lambda: repository.like_total(room_id),
        lambda: repository.latest_feed_seq(room_id))
    return Realtime(
        endpoint=endpoint,
        client_id=topics.new_client_id(cfg.stage, caller.user_id),
        credentials=RealtimeCredentials(username=username, password=token, authorizer=cfg.authorizer_name or None),
        topics=names,
        subscribe=[Topic(topic=names["danmaku"], qos=0), Topic(topic=names["events"], qos=1),
                   Topic(topic=names["private"], qos=1), Topic(topic=names["state"], qos=1)],
        keepalive_seconds=KEEPALIVE_SECONDS,
        expires_at=claims.expires_at,
        density=Density(max_batches_per_second=max_deliveries_per_second(cfg.batch_interval_ms),
                        max_messages_per_batch=cfg.batch_max_messages,
                        like_broadcasts_per_second=likes_per_second),
        quick_phrases=_phrases(room_settings),
        likes_total=likes_total,
        status=room.status,
        delivery=delivery.effective(room_settings.delivery if room_settings else None,
                                    room_settings.audience_mode if room_settings else None),
        poll_interval_ms=_poll_interval_of(room_settings),
        feed_seq=feed_seq,
    )


# -- host tools ------------------------------------------------------------------

def get_danmaku_settings(caller: Caller, room_id: str) -> DanmakuSettings:
    _load_for_moderator(caller, room_id)
    item = repository.get_room_settings(room_id, cached=False)
    return DanmakuSettings(quick_phrases=_phrases(item), blocked_words=list((item.blocked_words or []) if item else []),
                           delivery=item.delivery if item else None, updated_at=item.updated_at if item else None)


def put_danmaku_settings(caller: Caller, room_id: str, body: DanmakuSettingsRequest) -> DanmakuSettings:
    _load_for_moderator(caller, room_id)
    current = repository.get_room_settings(room_id, cached=False)
    phrases = current.quick_phrases if current else None
    words = current.blocked_words if current else None
    try:
        if body.quick_phrases is not None:
            phrases = moderation.clean_list(body.quick_phrases, max_items=moderation.MAX_QUICK_PHRASES,
                                            max_chars=moderation.MAX_PHRASE_CHARS, what="quick_phrases")
        if body.blocked_words is not None:
            words = moderation.clean_list(body.blocked_words, max_items=moderation.MAX_ROOM_BLOCKED_WORDS,
                                          max_chars=moderation.MAX_BLOCKED_WORD_CHARS, what="blocked_words")
    except moderation.TextRejected as rejected:
        field = "quick_phrases" if "phrase" in rejected.code else "blocked_words"
        raise _invalid(field, rejected) from None
    before = current.delivery if current else None
    # An explicit null returns the room to the audience rule; an absent field keeps the setting.
    mode = body.delivery if "delivery" in body.model_fields_set else before
    item = repository.put_room_settings(room_id, quick_phrases=phrases, blocked_words=words,
                                        updated_by=caller.user_id, delivery=mode)
    audience = item.audience_mode      # the update returned the whole item, the audience rule's fields too
    now_mode = delivery.effective(mode, audience)
    if now_mode != delivery.effective(before, audience):
        # Connected clients switch on this message (QoS 1 on the events topic); new ones read the
        # mode from GET .../realtime, the snapshot and the feed.
        _announce(room_id, now_mode)
    return DanmakuSettings(quick_phrases=_phrases(item), blocked_words=list(item.blocked_words or []),
                           delivery=item.delivery, updated_at=item.updated_at)


def _announce(room_id: str, mode: str, *, strict: bool = False, poll_interval_ms: int | None = None) -> bool:
    """Tell the room's connected clients their new mode and feed cadence (the `delivery` message,
    QoS 1 on the events topic). Going to poll also clears the retained like total (state/likes): in
    poll mode the feed carries the total and nothing keeps that retained copy current. `strict`:
    raise PublishFailed."""
    cfg = get_interaction_settings()
    interval = room_poll_interval(room_id) if poll_interval_ms is None else poll_interval_ms
    message = delivery.control_message(room_id, mode, interval)
    if strict:
        publish(topics.events_topic(cfg.stage, room_id), message, qos=1)
        sent = True
    else:
        sent = publish_best_effort(topics.events_topic(cfg.stage, room_id), message, qos=1)
    if sent and mode == delivery.POLL:
        room_state.clear_state(room_id, "likes")
    return sent


def _poll_interval_of(item: Any) -> int:
    """The feed cadence recorded on a room's settings item by the audience rule, if it is one of
    the configured cadences (a stale value after a configuration change is not); else the default."""
    cfg = get_interaction_settings()
    recorded = getattr(item, "poll_interval_ms", None) if item is not None else None
    if recorded is not None and int(recorded) in (cfg.poll_interval_ms, cfg.slow_poll_interval_ms):
        return int(recorded)
    return cfg.poll_interval_ms


def room_poll_interval(room_id: str) -> int:
    """How often the room's poll-mode clients read the feed now (milliseconds), from the room's
    settings item (cached 5 s per container, as the mode is)."""
    return _poll_interval_of(repository.get_room_settings(room_id))


def room_delivery(room_id: str) -> str:
    return feed.room_mode(room_id)


def follow_audience(room_id: str, viewers: int, *, now_ms: int | None = None) -> str | None:
    """The audience rule for one room (interaction.delivery.follow: poll from DANMAKU_POLL_ABOVE_VIEWERS,
    push again below 80 % of it, at most one switch a minute; interaction.delivery.poll_interval: the
    feed read every DANMAKU_POLL_INTERVAL_MS, every DANMAKU_SLOW_POLL_INTERVAL_MS from
    DANMAKU_SLOW_POLL_FROM_VIEWERS), given its live viewer count. Called by the live-figures ticker
    every 5 s per live room (analytics.live.tick), which has just read the count: one consistent read
    of the settings item per room and tick, a conditional write and one `delivery` message only when
    the mode or, in poll mode, the cadence changes, nothing per viewer.

    The switch is recorded even while an explicit setting overrides it (no message then: the room's
    mode did not change), so clearing the setting lands on the audience's mode at once. Returns the
    mode announced, or None (a cadence change alone is announced best effort and returns None: every
    feed answer carries the cadence too)."""
    cfg = get_interaction_settings()
    at = int(time.time() * 1000) if now_ms is None else now_ms
    item = repository.get_room_settings(room_id, cached=False)
    count = max(int(viewers), 0)
    recorded = getattr(item, "poll_interval_ms", None) if item is not None else None
    had_interval = _poll_interval_of(item)
    interval = delivery.poll_interval(count, had_interval, fast_ms=cfg.poll_interval_ms,
                                      slow_ms=cfg.slow_poll_interval_ms, slow_from=cfg.slow_poll_from_viewers)
    cadence_changed = interval != had_interval and repository.record_poll_interval(
        room_id, interval_ms=interval, expected_ms=int(recorded) if recorded is not None else None)
    if not cadence_changed:
        interval = had_interval
    state = delivery.Audience(mode=delivery.effective(None, item.audience_mode if item else None),
                              switched_at_ms=int(item.audience_switched_ms) if item and item.audience_switched_ms
                              is not None else None)
    explicit = item.delivery if item else None
    decided = delivery.follow(state, count, threshold=cfg.poll_above_viewers, now_ms=at,
                              min_gap_ms=cfg.delivery_switch_gap_seconds * 1000)
    if decided == state:
        if cadence_changed and delivery.effective(explicit, state.mode) == delivery.POLL:
            logger.info("feed cadence follows the audience", extra={"room_id": room_id, "viewers": viewers,
                                                                    "poll_interval_ms": interval})
            _announce(room_id, delivery.POLL, poll_interval_ms=interval)
        return None
    assert decided.switched_at_ms is not None
    if not repository.record_audience(room_id, mode=decided.mode, switched_at_ms=decided.switched_at_ms,
                                      viewers=int(viewers), expected_switched_at_ms=state.switched_at_ms):
        return None                      # another tick of the room switched it first
    logger.info("delivery follows the audience", extra={"room_id": room_id, "viewers": viewers,
                                                        "mode": decided.mode, "overridden": explicit})
    if explicit in delivery.MODES:
        if cadence_changed and explicit == delivery.POLL:
            _announce(room_id, delivery.POLL, poll_interval_ms=interval)
        return None                      # the host's setting holds: the clients' mode did not change
    try:
        _announce(room_id, decided.mode, strict=True, poll_interval_ms=interval)
    except PublishFailed:
        # Unannounced, the switch would leave clients in the old mode: put it back, the next tick retries.
        repository.undo_audience(room_id, mode=state.mode if state.switched_at_ms is not None else delivery.PUSH,
                                 switched_at_ms=state.switched_at_ms, undone_switched_at_ms=decided.switched_at_ms)
        logger.warning("delivery switch not announced; undone", extra={"room_id": room_id, "mode": decided.mode})
        return None
    return decided.mode


def room_feed(room_id: str, after: int) -> RoomFeed:
    """The room's feed pages after `after` (public, the same for everyone: cached at the edge 1 s)."""
    from livecommerce.interaction import snapshot as edge  # deferred: one module, no cycle (snapshot reads rooms)

    rooms.check_visible(_rooms.get(room_id, lambda: rooms.get_room(room_id)), None, hidden=edge.not_found())
    kept, likes = together(lambda: repository.feed_pages(room_id, after=after, limit=delivery.PAGE_LIMIT),
                           lambda: repository.like_total(room_id))
    found = delivery.view([delivery.Page(seq=int(p.seq), at_ms=int(p.at_ms), message=p.message) for p in kept],
                          after=after)
    return RoomFeed(room_id=room_id, delivery=room_delivery(room_id), next_seq=found.next_seq, missed=found.missed,
                    likes_total=likes, poll_interval_ms=room_poll_interval(room_id),
                    pages=[FeedPage(seq=p.seq, at=p.at_ms, items=p.message.get("items", []),
                                    dropped=int(p.message.get("dropped", 0))) for p in found.pages])


def _moderation_target(caller: Caller, room_id: str, user_id: str) -> Any:
    room = _load_for_moderator(caller, room_id)
    if user_id == room.host_id or user_id == caller.user_id:
        raise problems.Conflict("The host cannot be muted or banned in their own room.", code="cannot_moderate_host")
    return room


def _moderation_view(room_id: str, user_id: str) -> Moderation:
    state = repository.get_moderation(room_id, user_id)
    until = int(state.muted_until) if state and state.muted_until and state.muted_until > time.time() else None
    return Moderation(room_id=room_id, user_id=user_id, muted_until=iso_from_epoch(until) if until else None,
                      banned=bool(state and state.banned))


def _notify(room_id: str, user_id: str, message: dict[str, Any]) -> None:
    if topics.USER_ID.match(user_id):
        publish_best_effort(topics.private_topic(get_interaction_settings().stage, room_id, user_id),
                            {"room_id": room_id, **message}, qos=1)


def list_moderation(caller: Caller, room_id: str, *, limit: int, cursor: str | None) -> ModerationPage:
    """The room's muted (until when) and banned viewers, for its host, operators and moderating assistants."""
    _load_for_moderator(caller, room_id)
    now = int(time.time())
    found, next_cursor = repository.moderated_users(room_id, now_s=now, limit=limit, cursor=cursor)
    items = []
    for item in found:
        until = int(item.muted_until) if item.muted_until and item.muted_until > now else None
        items.append(ModeratedUser(user_id=item.user_id, muted_until=iso_from_epoch(until) if until else None,
                                   banned=bool(item.banned), reason=item.reason if item.banned else None,
                                   updated_by=item.updated_by, updated_at=item.updated_at))
    return ModerationPage(items=items, cursor=next_cursor)


def mute(caller: Caller, room_id: str, user_id: str, duration_seconds: int) -> Moderation:
    _moderation_target(caller, room_id, user_id)
    until = int(time.time()) + duration_seconds
    repository.set_moderation(room_id, user_id, by=caller.user_id, muted_until=until)
    logger.info("viewer muted", extra={"room_id": room_id, "user_id": user_id, "seconds": duration_seconds})
    _notify(room_id, user_id, {"type": "muted", "muted_until": iso_from_epoch(until)})
    return _moderation_view(room_id, user_id)


def unmute(caller: Caller, room_id: str, user_id: str) -> Moderation:
    _moderation_target(caller, room_id, user_id)
    repository.set_moderation(room_id, user_id, by=caller.user_id, clear_mute=True)
    _notify(room_id, user_id, {"type": "unmuted"})
    return _moderation_view(room_id, user_id)


def ban(caller: Caller, room_id: str, user_id: str, reason: str | None) -> Moderation:
    _moderation_target(caller, room_id, user_id)
    repository.set_moderation(room_id, user_id, by=caller.user_id, banned=True, reason=reason)
    logger.info("viewer banned", extra={"room_id": room_id, "user_id": user_id})
    # The client leaves on this notice; IoT Core re-runs the authorizer (refresh) and
    # refuses the connection, and every API call answers 403 `banned` from now on.
    _notify(room_id, user_id, {"type": "banned"})
    return _moderation_view(room_id, user_id)


def unban(caller: Caller, room_id: str, user_id: str) -> Moderation:
    _moderation_target(caller, room_id, user_id)
    repository.set_moderation(room_id, user_id, by=caller.user_id, banned=False)
    return _moderation_view(room_id, user_id)

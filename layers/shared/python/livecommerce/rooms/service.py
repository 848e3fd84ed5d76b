"""Room rules: who may do what, when, and what it changes. No HTTP here."""
from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

from livecommerce import identity, media
from livecommerce.rooms import cover_rules, events, lifecycle, public_covers, repository, rules
from livecommerce.rooms.models import (CreateRoomRequest, Ingest, Playback,
                                       Reservation, ReservationPage, ReservationRequest, Room, RoomPage, RoomRef,
                                       UpdateRoomRequest)
from livecommerce.rooms.storage import ReservationItem, RoomItem
from livecommerce.shared import aws, problems
from livecommerce.shared.async_invoke import invoke_async
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import iso, now_iso, utcnow
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger
from livecommerce.shared.settings import get_settings

MAX_SCHEDULE_AHEAD = rules.MAX_SCHEDULE_AHEAD
EDITABLE_STATUSES = rules.EDITABLE_STATUSES
MAX_LOCK_RETRIES = 8


# -- views -----------------------------------------------------------------------

def _cover_url(item: RoomItem) -> str | None:
    """An uploaded cover is a private object: a fresh presigned link (signing is local, no call),
    shown only to callers who may see the room, so a test room's cover stays as private as the room."""
    if not item.cover_key:
        return item.cover
    settings = get_settings()
    if cover_rules.served_publicly(item.visibility, item.cover_public_key, settings.public_covers_base_url):
        return f"{settings.public_covers_base_url}/{item.cover_public_key}"   # stable: the CDN and browsers cache it
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": get_settings().materials_bucket, "Key": item.cover_key},
        ExpiresIn=cover_rules.VIEW_SECONDS)


def room_view(item: RoomItem) -> Room:
    return Room(id=item.room_id, host_id=item.host_id, title=item.title, topic=item.topic,
                highlights=list(item.highlights or []), host_intro=item.host_intro, cover=_cover_url(item),
                visibility=item.visibility, scheduled_start=item.scheduled_start, status=item.status,
                reservation_count=int(item.reservation_count or 0), started_at=item.started_at,
                interrupted_at=item.interrupted_at, ended_at=item.ended_at, created_at=item.created_at,
                updated_at=item.updated_at)


def ref_of(item: RoomItem) -> RoomRef:
    return RoomRef(room_id=item.room_id, host_id=item.host_id, status=item.status, visibility=item.visibility,
                   scheduled_start=item.scheduled_start, channel_arn=item.channel_arn, ended_at=item.ended_at)


def room_ref(room_id: str, *, consistent: bool = False) -> RoomRef | None:
    item = repository.get_room(room_id, consistent=consistent)
    return ref_of(item) if item is not None else None


def _room_fields(item: RoomItem) -> dict[str, Any]:
    """The room's state every room event carries (channel_arn is null until provisioned)."""
    return {"room_id": item.room_id, "host_id": item.host_id, "status": item.status,
            "scheduled_start": item.scheduled_start, "visibility": item.visibility,
            "channel_arn": item.channel_arn}


def _index_keys(item: RoomItem) -> None:
    keys = rules.index_keys(room_id=item.room_id, host_id=item.host_id, visibility=item.visibility,
                            status=item.status, scheduled_start=item.scheduled_start, ended_at=item.ended_at)
    item.gsi1pk, item.gsi1sk, item.gsi2pk, item.gsi2sk = keys.gsi1pk, keys.gsi1sk, keys.gsi2pk, keys.gsi2sk


# -- access ----------------------------------------------------------------------

def _load(room_id: str, *, consistent: bool = False) -> RoomItem:
    item = repository.get_room(room_id, consistent=consistent)
    if item is None:
        raise rules.room_not_found()
    return item


def _can_run(caller: Caller | None, item: RoomItem) -> bool:
    return caller is not None and rules.can_run(caller.user_id, caller.roles, item.host_id)


def _check_visible(caller: Caller | None, item: RoomItem) -> RoomItem:
    """The visibility gate (as livecommerce.rooms.require_visible, on the item already read):
    a test room does not exist for anyone but those who run it."""
    rules.check_visible(caller, item.host_id, item.visibility)
    return item


def load_visible(caller: Caller | None, room_id: str) -> RoomItem:
    return _check_visible(caller, _load(room_id))


def _load_for_host(caller: Caller, room_id: str, *, consistent: bool = False) -> RoomItem:
    """The room when the caller runs it: 404 as for no room when they may not even see it, 403 else."""
    item = _check_visible(caller, _load(room_id, consistent=consistent))
    if not _can_run(caller, item):
        raise problems.Forbidden("Only this room's host may do this.", code="not_room_host")
    return item


def _check_start(value: datetime) -> str:
    return rules.check_start(value, utcnow())


# -- rooms -----------------------------------------------------------------------

def create_room(caller: Caller, body: CreateRoomRequest) -> Room:
    host_id = body.host_id or caller.user_id
    if host_id != caller.user_id and not caller.is_operator:
        raise problems.Forbidden("Hosts create rooms for themselves.", code="not_room_host")
    if not caller.is_host:
        raise problems.Forbidden("Only hosts may do this.", code="host_required")
    host = identity.find_host(host_id)
    if host is None:
        raise problems.NotFound("That user has no host profile.", code="host_not_found")
    now = now_iso()
    room_id = new_ulid()
    item = RoomItem(*RoomItem.key(room_id), room_id=room_id, host_id=host_id, title=body.title, topic=body.topic,
                    highlights=body.highlights, host_intro=body.host_intro or host.intro, cover=body.cover,
                    visibility=body.visibility, scheduled_start=_check_start(body.scheduled_start),
                    status=lifecycle.SCHEDULED, reservation_count=0, created_at=now, updated_at=now, version=0)
    _index_keys(item)
    repository.put_new_room(item, [events.RoomCreated(**_room_fields(item))])
    _provision_channel(item)
    repository.flush_outbox(room_id)
    return room_view(item)


def _provision_channel(item: RoomItem) -> RoomItem:
    """Create the room's IVS channel; safe to repeat (the adapter reuses a channel made for this room)."""
    settings = get_settings()
    provisioned = media.create_room_channel(item.room_id, host_id=item.host_id,
                                               recording_configuration_arn=settings.recording_configuration_arn,
                                               stage=settings.stage)
    for _ in range(MAX_LOCK_RETRIES):
        if item.channel_arn:
            return item
        item.channel_arn = provisioned.channel.arn
        item.channel_name = provisioned.channel.name
        item.ingest_endpoint = provisioned.channel.ingest_endpoint
        item.playback_url = provisioned.channel.playback_url
        if repository.save_room_if_version(item, item.version, []):
            return item
        item = _load(item.room_id, consistent=True)
    raise problems.Conflict("The room changed while its channel was set up; retry.", code="concurrent_update",
                            retryable=True)


def _ensure_channel(item: RoomItem) -> RoomItem:
    return item if item.channel_arn else _provision_channel(item)


def update_room(caller: Caller, room_id: str, body: UpdateRoomRequest) -> Room:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise problems.BadRequest("Nothing to change.", code="empty_update")
    for _ in range(MAX_LOCK_RETRIES):
        item = _load_for_host(caller, room_id, consistent=True)
        rules.check_editable(item.status)
        old_start = item.scheduled_start
        for field, value in rules.edit_values(changes, utcnow()).items():
            setattr(item, field, value)
        if "cover" in changes:
            item.cover_key = None      # a cover URL (or null) replaces an uploaded cover
            item.cover_public_key = None
        # test -> public: the uploaded cover is copied to the public-covers location before the room says so
        public_covers.publish_if_public(item)
        _index_keys(item)
        version = item.version
        if repository.save_room_if_version(item, version, [events.RoomUpdated(
                **_room_fields(item), changed=sorted(changes), previous_scheduled_start=old_start)]):
            if item.scheduled_start != old_start:
                repository.update_reservation_times(room_id, item.scheduled_start)
            repository.flush_outbox(room_id)
            return room_view(item)
    raise problems.Conflict("The room is being changed by someone else; retry.", code="concurrent_update",
                            retryable=True)


def list_rooms(status: str, *, limit: int, cursor: str | None) -> RoomPage:
    items, next_cursor = repository.query_by_status(status, limit=limit, cursor=cursor,
                                                    newest_first=status == lifecycle.ENDED)
    return RoomPage(items=[room_view(i) for i in items], cursor=next_cursor)


# -- reservations ----------------------------------------------------------------

def _mask(phone: str) -> str:
    return rules.mask_phone(phone)


def _encrypt_phone(phone: str, room_id: str, viewer_id: str) -> str:
    # KMS with an encryption context: a ciphertext copied to another reservation will not decrypt.
    blob = aws.client("kms").encrypt(KeyId=get_settings().pii_key_id, Plaintext=phone.encode(),
                                     EncryptionContext={"room_id": room_id, "viewer_id": viewer_id})["CiphertextBlob"]
    return base64.b64encode(blob).decode()


def decrypt_phone(reservation: ReservationItem) -> str | None:
    """For the reminder workflow only."""
    if not reservation.phone_ciphertext:
        return None
    plain = aws.client("kms").decrypt(CiphertextBlob=base64.b64decode(reservation.phone_ciphertext),
                                      EncryptionContext={"room_id": reservation.room_id,
                                                         "viewer_id": reservation.viewer_id})["Plaintext"]
    return plain.decode()


def _reservation_view(r: ReservationItem, count: int | None = None) -> Reservation:
    return Reservation(room_id=r.room_id, viewer_id=r.viewer_id, subscribe_message=r.subscribe_message, sms=r.sms,
                       phone=r.phone_masked, scheduled_start=r.scheduled_start, created_at=r.created_at,
                       reservation_count=count)


def reserve(caller: Caller, room_id: str, body: ReservationRequest) -> tuple[Reservation, bool]:
    rules.check_reservation_channels(subscribe_message=body.subscribe_message, sms=body.sms, phone=body.phone)
    item = load_visible(caller, room_id)
    rules.check_reservable(item.status)
    now = now_iso()
    reservation = ReservationItem(*ReservationItem.key(room_id, caller.user_id), room_id=room_id,
                                  viewer_id=caller.user_id, subscribe_message=body.subscribe_message, sms=body.sms,
                                  scheduled_start=item.scheduled_start, created_at=now, updated_at=now,
                                  gsi2pk=f"RESERVER#{caller.user_id}", gsi2sk=f"{item.scheduled_start}#{room_id}")
    if body.sms and body.phone:
        reservation.phone_ciphertext = _encrypt_phone(body.phone, room_id, caller.user_id)
        reservation.phone_masked = _mask(body.phone)
    created = repository.add_reservation(reservation, [events.ReservationMade(
        room_id=room_id, viewer_id=caller.user_id, scheduled_start=item.scheduled_start,
        subscribe_message=body.subscribe_message, sms=body.sms)])
    if not created:
        # Reserving again updates the consent; the count stays as it is.
        existing = repository.get_reservation(room_id, caller.user_id)
        reservation.created_at = existing.created_at if existing else now
        repository.update_reservation_consent(reservation)
    repository.flush_outbox(room_id)
    count = int(_load(room_id, consistent=True).reservation_count or 0)
    return _reservation_view(reservation, count), created


def cancel_reservation(caller: Caller, room_id: str) -> dict[str, Any]:
    load_visible(caller, room_id)
    removed = repository.remove_reservation(room_id, caller.user_id, [events.ReservationCancelled(
        room_id=room_id, viewer_id=caller.user_id)])
    repository.flush_outbox(room_id)
    count = int(_load(room_id, consistent=True).reservation_count or 0)
    return {"room_id": room_id, "reserved": False, "changed": removed, "reservation_count": count}


def my_reservations(caller: Caller, *, limit: int, cursor: str | None) -> ReservationPage:
    items, next_cursor = repository.reservations_of_viewer(caller.user_id, limit=limit, cursor=cursor)
    return ReservationPage(items=[_reservation_view(i) for i in items], cursor=next_cursor)


# -- ingest and playback -----------------------------------------------------------

def ingest(caller: Caller, room_id: str) -> Ingest:
    item = _ensure_channel(_load_for_host(caller, room_id))
    if item.status == lifecycle.ENDED:
        raise problems.Conflict("The room has ended.", code="room_ended")
    key = media.get_stream_key(item.channel_arn)
    return Ingest(server=_ingest_server(item), stream_key=key.value, channel_arn=item.channel_arn)


def rotate_stream_key(caller: Caller, room_id: str) -> Ingest:
    item = _ensure_channel(_load_for_host(caller, room_id))
    if item.status == lifecycle.ENDED:
        raise problems.Conflict("The room has ended.", code="room_ended")
    key = media.rotate_stream_key(item.channel_arn)
    if item.status in (lifecycle.LIVE, lifecycle.INTERRUPTED):
        # A leaked key may be streaming right now: cut it off; the host reconnects with the new key.
        media.stop_stream(item.channel_arn)
    logger.info("stream key rotated", extra={"room_id": room_id})
    return Ingest(server=_ingest_server(item), stream_key=key.value, channel_arn=item.channel_arn)


def _ingest_server(item: RoomItem) -> str:
    return media.ingest_url(media.Channel(
        arn=item.channel_arn, name=item.channel_name or "", ingest_endpoint=item.ingest_endpoint or "",
        playback_url=item.playback_url or "", latency_mode="LOW", type="STANDARD", authorized=True))


def playback(caller: Caller, room_id: str) -> Playback:
    item = load_visible(caller, room_id)
    if item.status == lifecycle.ENDED:
        raise problems.Conflict("The live has ended; watch the replay.", code="room_ended",
                                replay=f"/v1/rooms/{room_id}/replay")
    item = _ensure_channel(item)
    settings = get_settings()
    token, expires = media.sign_playback_token(item.channel_arn, caller.user_id,
                                               private_key_pem=media.load_playback_private_key())
    url = item.playback_url
    if settings.playback_domain:
        url = media.custom_domain_playback_url(url, settings.playback_domain)
    return Playback(playback_url=media.playback_url_with_token(url, token), token=token,
                    expires_at=iso(datetime.fromtimestamp(expires, timezone.utc)), status=item.status)


# -- lifecycle ---------------------------------------------------------------------

def _facts(item: RoomItem) -> lifecycle.RoomFacts:
    streams = tuple(lifecycle.StreamFacts(s.stream_id, s.started_at, s.ended_at)
                    for s in repository.stream_facts(item.room_id))
    return lifecycle.RoomFacts(host_started_at=item.host_started_at, host_ended_at=item.host_ended_at,
                               recording_ended_at=item.recording_ended_at, streams=streams,
                               switch_from=item.switch_from, switch_until=item.switch_until)


def _apply(room_id: str, mutate=None, *, cause: str) -> RoomItem:
    """Re-derive the status from the facts and write it with its events; retry on a concurrent change."""
    for _ in range(MAX_LOCK_RETRIES):
        item = _load(room_id, consistent=True)
        version = item.version
        if mutate is not None:
            mutate(item)
        old = item.status
        now = now_iso()
        new = lifecycle.derive_status(_facts(item), now)
        if new == old and mutate is None:
            return item
        if new != old:
            item.status = new
            if new == lifecycle.LIVE and not item.started_at:
                item.started_at = now
            if new == lifecycle.INTERRUPTED:
                item.interrupted_at = now
            if new == lifecycle.ENDED:
                item.ended_at = item.ended_at or now
        _index_keys(item)
        changes = [events.LIFECYCLE_EVENTS[name](**_room_fields(item), previous_status=old, cause=cause)
                   for name in lifecycle.transition_events(old, new)]
        if repository.save_room_if_version(item, version, changes):
            if changes:
                logger.info("room status changed", extra={"room_id": room_id, "from": old, "to": new,
                                                          "cause": cause})
            return item
    raise problems.Conflict("The room is changing; retry.", code="concurrent_update", retryable=True)


def start_by_host(caller: Caller, room_id: str) -> Room:
    item = _load_for_host(caller, room_id)
    if item.status == lifecycle.ENDED:
        raise problems.Conflict("The room has ended.", code="room_ended")

    def mark(room: RoomItem) -> None:
        room.host_started_at = room.host_started_at or now_iso()

    item = _apply(room_id, mark, cause="host")
    repository.flush_outbox(room_id)
    return room_view(item)


def end_by_host(caller: Caller, room_id: str) -> Room:
    item = _load_for_host(caller, room_id)
    if item.status == lifecycle.ENDED and item.host_ended_at:
        return room_view(item)

    def mark(room: RoomItem) -> None:
        room.host_ended_at = room.host_ended_at or now_iso()

    item = _apply(room_id, mark, cause="host")
    repository.flush_outbox(room_id)
    if item.channel_arn:
        try:
            media.stop_stream(item.channel_arn)
        except problems.Problem as exc:
            # The room is ended either way; an encoder still pushing is cut off by the
            # next end call or left to stop itself. Not worth failing the host's request.
            logger.warning("could not stop the stream", extra={"room_id": room_id, "code": exc.code})
    return room_view(item)


def on_stream_event(room_id: str, channel_arn: str | None, kind: str, stream_id: str | None, at: str) -> str | None:
    """Apply one IVS event. Unknown rooms, foreign channels and repeats are safe no-ops."""
    item = repository.get_room(room_id, consistent=True)
    if item is None:
        logger.warning("stream event for an unknown room", extra={"room_id": room_id})
        return None
    if channel_arn and item.channel_arn and channel_arn != item.channel_arn:
        logger.warning("stream event from another channel", extra={"room_id": room_id, "channel_arn": channel_arn})
        return None
    repository.flush_outbox(room_id)  # events left by a crashed earlier delivery go first
    if kind in ("started", "ended", "failed"):
        if not stream_id:
            return item.status
        repository.record_stream_fact(room_id, stream_id, f"{kind}_at", at)
        if kind == "failed":
            repository.record_stream_fact(room_id, stream_id, "ended_at", at)
        item = _apply(room_id, cause=f"stream_{kind}")
    elif kind == "recording_ended":
        def mark(room: RoomItem) -> None:
            if not room.recording_ended_at or room.recording_ended_at < at:
                room.recording_ended_at = at

        item = _apply(room_id, mark, cause="recording_ended")
    repository.flush_outbox(room_id)
    if kind in ("ended", "failed"):
        _recheck_when_switch_runs_out(item)
    return item.status


# -- planned switches (co-stream composition in and out, lifecycle.held_by_switch) ----------------

SWITCH_CHECK = "planned_switch_check"


def open_planned_switch(room_id: str) -> str | None:
    """The host is about to move the channel's stream (into or out of a composition): the stream ends
    of the next lifecycle.PLANNED_SWITCH_SECONDS do not interrupt the room unless nothing comes back.
    Returns the window's end (None: the room is not on air, nothing to hold)."""
    item = _load(room_id, consistent=True)
    if item.status not in (lifecycle.LIVE, lifecycle.INTERRUPTED):
        return None

    def mark(room: RoomItem) -> None:
        room.switch_from, room.switch_until = lifecycle.open_switch_window(room.switch_from, room.switch_until,
                                                                           now_iso())

    item = _apply(room_id, mark, cause="planned_switch")
    repository.flush_outbox(room_id)
    logger.info("planned switch", extra={"room_id": room_id, "until": item.switch_until})
    _recheck_when_switch_runs_out(item)     # a stream end already held: its window got longer
    return item.switch_until


def _recheck_when_switch_runs_out(item: RoomItem) -> None:
    """A stream end held by a planned switch: derive the status again when the window closes (one
    asynchronous invocation of stream_events that sleeps until then)."""
    at = lifecycle.switch_recheck_at(_facts(item), now_iso())
    if at is None:
        return
    if not invoke_async("stream_events", {SWITCH_CHECK: {"room_id": item.room_id, "at_ms": lifecycle.epoch_ms(at)}}):
        logger.warning("could not ask for the planned switch's check", extra={"room_id": item.room_id})


def check_planned_switch(room_id: str) -> str | None:
    """The window of a held stream end has closed: the room is interrupted now unless a stream came back."""
    item = repository.get_room(room_id, consistent=True)
    if item is None:
        return None
    repository.flush_outbox(room_id)
    item = _apply(room_id, cause="planned_switch_timeout")
    repository.flush_outbox(room_id)
    _recheck_when_switch_runs_out(item)     # still held: the window was extended meanwhile
    return item.status


def require_room_host(caller: Caller, room_id: str) -> RoomItem:
    return _load_for_host(caller, room_id)


# -- room staff: the host, operators and the room's assistants -----------------------

def require_room_staff(caller: Caller, room_id: str, capability: str) -> RoomItem:
    """The room when the caller may do `capability` in it: they run it (its host or an operator),
    or the host named them assistant for this room or all their rooms with that capability
    (identity.grant_allows). Prices, stock and payouts are no capability, so routes that change
    them keep require_room_host.

    Answers as for the host-only routes: a caller who is neither a host nor anyone's assistant for
    that capability is 403 host_required before the room is read (so a test room leaks nothing);
    a room they may not see (missing, or a test room: assistants do not rehearse) is 404; a room
    they see but may not act in is 403 not_room_host."""
    grants: list[tuple[str, str, list[str]]] | None = None
    if not caller.is_host:
        grants = identity.assistant_grants(caller.user_id)
        if not any(capability in caps for _, _, caps in grants):
            raise problems.Forbidden("Only hosts may do this.", code="host_required")
    item = _check_visible(caller, _load(room_id))
    if _can_run(caller, item):
        return item
    if grants is None:
        grants = identity.assistant_grants(caller.user_id)
    if identity.grant_allows(grants, room_id=room_id, host_id=item.host_id, capability=capability):
        return item
    raise problems.Forbidden("Only this room's host or its assistants may do this.", code="not_room_host")


def put_assistant(caller: Caller, room_id: str, user_id: str, capabilities: list[str] | None):
    room = _load_for_host(caller, room_id)
    return identity.grant_assistant(host_id=room.host_id, user_id=user_id, room_id=room_id,
                                    capabilities=capabilities, granted_by=caller.user_id)


def delete_assistant(caller: Caller, room_id: str, user_id: str):
    room = _load_for_host(caller, room_id)
    return identity.revoke_assistant(host_id=room.host_id, user_id=user_id, room_id=room_id,
                                     revoked_by=caller.user_id)


def list_assistants(caller: Caller, room_id: str):
    room = _load_for_host(caller, room_id)
    return identity.assistants(room.host_id, room_id)

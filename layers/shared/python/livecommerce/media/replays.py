"""Replays and clips: the replay state machine's tasks, its starter, the room's marks, and the
routes' use cases (docs/replays.md).

  IVS "Recording End" or S3 "Object Created" (<prefix>/events/recording-ended.json)
      -> start(): StartExecution of statemachines/replay.asl.json, one execution per recording
         and trigger (name rec-<recording id>-<ivs|s3>: a redelivered event is refused by name)
  replay machine:
      Claim    task("claim"): which room (channel name, else the recording's channel via IVS
               GetChannel), claim the recording by a conditional write; a recording already
               published, another run holding it, or an unknown room end the run (recorded)
      Publish  task("publish"): read recording-ended.json (absent: RecordingNotReady, retried),
               the recorded playlists and thumbnails, re-time the room's marks, write the
               per-product clip playlists, store the replay (latest-started recording wins),
               publish ReplayReady
      Missing  task("missing"): recording-ended.json never came: recorded as missing_recording
      Failed   task("failed"): anything else: recorded as failed (a later trigger may retry)
"""
from __future__ import annotations

import json
import os
import posixpath
import re
from datetime import datetime, timezone
from typing import Any

from livecommerce import rooms
from livecommerce.media import replay_rules as rules
from livecommerce.media.events import ReplayReady
from livecommerce.media.channels import channel_name
from livecommerce.media.replay_storage import ClipItem, MarkItem, RecordingItem, ReplayItem, bind_all
from livecommerce.shared import aws, dynamo
from livecommerce.shared.clock import now_iso
from livecommerce.shared.events import publish_event
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.observability import logger
from livecommerce.shared.problems import Conflict, NotFound, ValidationFailed
from livecommerce.shared.settings import get_settings

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
FINAL_STATES = {"ready"}
RETRYABLE_STATES = {"missing_recording", "failed", "recording_failed"}
MARK_EVENTS = {"ProductListed": "listing", "FlashSaleStarted": "flash_sale", "CouponDropped": "coupon_drop",
               "LotteryOpened": "lottery"}
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


class RecordingNotReady(Exception):
    """recording-ended.json is not (yet) under the prefix: the machine retries, then records it."""


def _s3():
    return aws.client("s3")


def _recordings_bucket(default: str | None = None) -> str:
    return os.environ.get("RECORDINGS_BUCKET") or default or ""


def replay_url(key: str) -> str:
    """The address of an object of the recordings bucket on the replay distribution (REPLAY_BASE_URL:
    CloudFront with origin access control; locally the replay CDN). The distribution serves it only
    with a token (ReplayUrls below); this bare form names the object (the ReplayReady event)."""
    base = os.environ.get("REPLAY_BASE_URL", "").rstrip("/")
    return f"{base}/{key}" if base else key


class ReplayUrls:
    """The URLs one caller plays one recording with: ``REPLAY_BASE_URL/t/<token>/<key>``, one ES384
    token (the playback key, the same rule as live) bound to the recording's prefix, short-lived for
    a test room's replay, a day for a public one (replay_rules.replay_token_ttl; docs/replays.md)."""

    def __init__(self, prefix: str, viewer_id: str, *, private: bool, duration_seconds: float) -> None:
        from livecommerce.media import playback  # deferred: PyJWT/cryptography, only when a replay is shown

        self.prefix = prefix.strip("/")
        ttl = rules.replay_token_ttl(duration_seconds, private=private)
        self.token, self.expires_at = playback.sign_replay_token(
            self.prefix, viewer_id, private_key_pem=playback.load_playback_private_key(), ttl_seconds=ttl)
        self._path = playback.tokenised_path

    def __call__(self, key: str) -> str:
        if not key.startswith(self.prefix + "/"):
            raise ValueError(f"{key!r} is not under the recording {self.prefix!r}")
        return replay_url(self._path(self.token, key))


class BareUrls:
    """Untokenised URLs: only where nothing checks tokens (REPLAY_URL_TOKENS unset: tests that look at
    bare keys; AWS (CDK) and the local stack set it, and their distributions serve token URLs only)."""

    expires_at = None

    def __call__(self, key: str) -> str:
        return replay_url(key)


URL_TOKENS_ENV = "REPLAY_URL_TOKENS"


def _urls_for(caller: Any, room: Any, replay: ReplayItem) -> ReplayUrls | BareUrls:
    if os.environ.get(URL_TOKENS_ENV) != "on":
        return BareUrls()
    return ReplayUrls(replay.prefix, str(caller.user_id), private=room.visibility != "public",
                      duration_seconds=(replay.duration_ms or 0) / 1000.0)


# ---------------------------------------------------------------------------- starter

def start(event: dict[str, Any]) -> str:
    """An IVS recording event or an S3 Object Created event: start the replay machine."""
    detail_type = str(event.get("detail-type") or "")
    detail = event.get("detail") or {}
    if detail_type == "IVS Recording State Change":
        if detail.get("recording_status") != "Recording End":
            return "ignored"
        source = "ivs"
        bucket = str(detail.get("recording_s3_bucket_name") or "")
        prefix = str(detail.get("recording_s3_key_prefix") or "").strip("/")
        name = str(detail.get("channel_name") or "")
        arn = str((event.get("resources") or [""])[0] or "")
    elif detail_type == "Object Created":
        prefix = rules.prefix_of_ended_key(str((detail.get("object") or {}).get("key") or ""))
        if prefix is None:
            return "ignored"
        source, name, arn = "s3", "", ""
        bucket = str((detail.get("bucket") or {}).get("name") or "")
    else:
        return "ignored"
    if not bucket or not prefix:
        logger.warning("recording event without bucket or prefix", extra={"detail": detail})
        return "invalid"
    run = f"rec-{rules.recording_id(prefix)}-{source}"
    payload = {"source": source, "bucket": bucket, "prefix": prefix, "channel_name": name, "channel_arn": arn,
               "event_time": str(event.get("time") or now_iso())}
    sfn = aws.client("stepfunctions")
    try:
        sfn.start_execution(stateMachineArn=os.environ["REPLAY_STATE_MACHINE_ARN"], name=run,
                            input=json.dumps(payload))
    except sfn.exceptions.ExecutionAlreadyExists:
        return "duplicate"
    return "started"


# ------------------------------------------------------------------------------ marks

def record_mark(event: dict[str, Any]) -> str:
    """A listing, flash sale, coupon drop or lottery of a room: kept with its moment."""
    kind = MARK_EVENTS.get(str(event.get("detail-type") or ""))
    if kind is None:
        return "ignored"
    detail = event.get("detail") or {}
    at = str(detail.get("occurred_at") or event.get("time") or now_iso())
    room_id = str(detail.get("room_id") or "")
    if not room_id:
        return "ignored"
    if kind == "listing":
        if detail.get("cause"):             # a price change relists: the moment is the host's listing
            return "ignored"
        ref, product, title, price = detail.get("product_id"), detail.get("product_id"), detail.get("name"), \
            detail.get("live_price")
    elif kind == "flash_sale":
        ref, product, title, price = detail.get("flash_sale_id"), detail.get("product_id"), detail.get("name"), \
            detail.get("price")
    elif kind == "coupon_drop":
        ref, product, title, price = detail.get("drop_id"), None, detail.get("name"), detail.get("amount")
    else:
        ref, product, title, price = detail.get("lottery_id"), None, detail.get("prize_name"), None
    if not ref:
        return "ignored"
    bind_all()
    at = _iso(_parse_time(at))
    MarkItem(*MarkItem.key(room_id, at, kind, str(ref)), room_id=room_id, at=at, kind=kind, ref_id=str(ref),
             product_id=product, title=str(title or ""), price=price if isinstance(price, int) else None).save()
    # Events are delivered at least once and in no order: this mark can arrive after the room's
    # replay was published (a slow delivery, or an event the producer's outbox sweeper published
    # late). Saved first, then the replay read (consistently): either this read sees the replay,
    # or the publish's own re-read of the marks after its write sees this mark (publish, below).
    if _amend_if_missed(room_id, _parse_time(at)):
        return "recorded_and_amended"
    return "recorded"


def _amend_if_missed(room_id: str, at: datetime) -> bool:
    """Re-publish the room's ready replay when a mark of its recording is missing from its timeline."""
    from pynamodb.exceptions import DoesNotExist  # deferred: pynamodb

    try:
        replay = ReplayItem.get(*ReplayItem.key(room_id), consistent_read=True)
    except DoesNotExist:
        return False
    if replay.state != "ready" or not replay.recording_ended_at or at > _parse_time(replay.recording_ended_at):
        return False          # no replay yet (its publish reads this mark), or a later session's mark
    timeline = rules.retime(marks_of(room_id), _parse_time(replay.recording_started_at),
                            (replay.duration_ms or 0) / 1000.0)
    if [e.as_dict() for e in timeline] == list(replay.timeline or []):
        return False
    publish({"bucket": replay.bucket, "prefix": replay.prefix, "room_id": room_id}, amend=replay)
    return True


def marks_of(room_id: str) -> list[rules.Mark]:
    bind_all()
    return [rules.Mark(at=_parse_time(m.at), kind=m.kind, ref_id=m.ref_id, product_id=m.product_id,
                       title=m.title or "", price=int(m.price) if m.price is not None else None)
            for m in MarkItem.query(f"MARKS#{room_id}", consistent_read=True)]


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ------------------------------------------------------------------------------ tasks

def task(event: dict[str, Any]) -> dict[str, Any]:
    action = event.get("action")
    if action == "claim":
        return claim(event)
    if action == "publish":
        return publish(event)
    if action in ("missing", "failed"):
        return record_outcome(event, "missing_recording" if action == "missing" else "failed")
    raise ValueError(f"unknown replay task {action!r}")


def _room_of(event: dict[str, Any]) -> tuple[str | None, str]:
    """The room of the recording's channel (channels are named lc-<stage>-<room id>)."""
    name = str(event.get("channel_name") or "")
    arn = str(event.get("channel_arn") or "")
    if not name:
        if not arn:
            arn = _channel_arn_from_metadata(event["bucket"], event["prefix"]) or ""
        if arn:
            try:
                name = aws.client("ivs").get_channel(arn=arn)["channel"].get("name", "")
            except Exception as exc:   # noqa: BLE001 - a channel that is gone: an unknown room, recorded
                logger.warning("GetChannel failed for a recording", extra={"arn": arn, "error": str(exc)})
    room_id = name.rsplit("-", 1)[-1] if name else ""
    stage = get_settings().stage
    if not _ULID.match(room_id) or name != channel_name(stage, room_id):
        return None, name
    return room_id, name


def _channel_arn_from_metadata(bucket: str, prefix: str) -> str | None:
    for name in (rules.RECORDING_ENDED, rules.RECORDING_STARTED):
        document = _get_json(bucket, rules.join(prefix, name))
        if document and document.get("channel_arn"):
            return str(document["channel_arn"])
    return None


def _get_json(bucket: str, key: str) -> dict | None:
    try:
        body = _s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:  # noqa: BLE001
        code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
        if code in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    return json.loads(body)


def claim(event: dict[str, Any]) -> dict[str, Any]:
    from pynamodb.exceptions import PutError  # deferred: pynamodb

    bind_all()
    bucket, prefix, run = event["bucket"], event["prefix"].strip("/"), str(event.get("run") or "")
    recording = rules.recording_id(prefix)
    known = _recording_item(recording)
    if known is not None and known.state in FINAL_STATES | {"unknown_room", "processing"}:
        return {"outcome": "in_progress" if known.state == "processing" else "duplicate",
                "room_id": known.room_id, "state": known.state}
    # the room: as found by an earlier trigger of this recording, else from the channel
    room_id, name = (known.room_id, "") if known is not None and known.room_id else _room_of(event)
    now = now_iso()
    if room_id is None:
        item = RecordingItem(*RecordingItem.key(recording), prefix=prefix, bucket=bucket, state="unknown_room",
                             channel_arn=event.get("channel_arn") or None, run=run, updated_at=now, runs=1,
                             detail=f"no room of this stage for channel {name or '(unknown)'}")
        try:
            item.save(RecordingItem.pk.does_not_exist())
        except PutError:
            pass   # recorded before
        logger.warning("recording of an unknown room", extra={"prefix": prefix, "channel_name": name})
        return {"outcome": "unknown_room", "room_id": None}
    item = RecordingItem(*RecordingItem.key(recording), prefix=prefix, bucket=bucket, room_id=room_id,
                         channel_arn=event.get("channel_arn") or None, state="processing", run=run,
                         updated_at=now, runs=1)
    try:
        item.save(RecordingItem.pk.does_not_exist() | RecordingItem.state.is_in(*RETRYABLE_STATES))
    except PutError as exc:
        if dynamo.error_code(exc) != "ConditionalCheckFailedException":
            raise
        existing = RecordingItem.get(*RecordingItem.key(recording), consistent_read=True)
        outcome = "duplicate" if existing.state in FINAL_STATES | {"unknown_room"} else "in_progress"
        return {"outcome": outcome, "room_id": existing.room_id, "state": existing.state}
    return {"outcome": "claimed", "room_id": room_id}


def _recording_item(recording: str) -> RecordingItem | None:
    from pynamodb.exceptions import DoesNotExist  # deferred: pynamodb

    try:
        return RecordingItem.get(*RecordingItem.key(recording), consistent_read=True)
    except DoesNotExist:
        return None


def publish(event: dict[str, Any], *, amend: ReplayItem | None = None) -> dict[str, Any]:
    """Publish a recording's replay. `amend`: the room's ready replay of this recording, re-timed
    with marks that arrived after it was published (same ready_at, no second ReplayReady)."""
    bind_all()
    bucket, prefix, room_id = event["bucket"], event["prefix"].strip("/"), event["room_id"]
    ended_doc = _get_json(bucket, rules.join(prefix, rules.RECORDING_ENDED))
    if ended_doc is None:
        if _get_json(bucket, rules.join(prefix, rules.RECORDING_FAILED)) is not None:
            return record_outcome(event, "recording_failed")
        raise RecordingNotReady(f"{prefix}/{rules.RECORDING_ENDED} is not there")
    ended = rules.RecordingEnded.model_validate(ended_doc)
    renditions = []
    segments_by_path: dict[str, list[rules.Segment]] = {}
    bandwidths = _bandwidths(bucket, ended.master_key(prefix))
    for rendition, key in ended.rendition_keys(prefix):
        text = _s3().get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        segments_by_path[rendition.path] = rules.segments_of(text)
        renditions.append({"path": rendition.path, "playlist": rendition.playlist, "key": key,
                           "width": rendition.resolution_width, "height": rendition.resolution_height,
                           "bandwidth": bandwidths.get(rendition.path)})
    if not renditions:
        raise ValueError("recording-ended.json lists no HLS rendition")
    best = ended.best_rendition()
    duration = ended.media.hls.duration_ms / 1000.0 or rules.total_seconds(segments_by_path[best.path])
    duration = min(duration, rules.total_seconds(segments_by_path[best.path])) or duration
    timeline = rules.retime(marks_of(room_id), ended.recording_started_at, duration)
    thumbnails = _thumbnails(bucket, ended.thumbnail_dir(prefix))
    replay = ReplayItem(*ReplayItem.key(room_id), room_id=room_id, state="ready", prefix=prefix, bucket=bucket,
                        recording_started_at=_iso(ended.recording_started_at),
                        recording_ended_at=_iso(ended.recording_ended_at), duration_ms=int(round(duration * 1000)),
                        master_key=ended.master_key(prefix), renditions=renditions, thumbnails=thumbnails,
                        timeline=[e.as_dict() for e in timeline],
                        ready_at=amend.ready_at if amend is not None else now_iso(),
                        recording_end_event_at=(amend.recording_end_event_at if amend is not None
                                                else str(event.get("event_time") or "") or None))
    clips = 0
    for product_id, start_s, end_s in rules.product_clip_windows(timeline, duration):
        _write_clip(replay, segments_by_path, f"p-{product_id}", start_s, end_s, kind="product",
                    product_id=product_id, title=next((e.title for e in timeline if e.product_id == product_id), None),
                    created_by=None)
        clips += 1
    from pynamodb.exceptions import PutError  # deferred: pynamodb

    if amend is not None:     # only over the same recording's replay, as it was read
        condition = (ReplayItem.state == "ready") & (ReplayItem.prefix == prefix)
    else:
        condition = ((ReplayItem.pk.does_not_exist()) | (ReplayItem.state != "ready")
                     | (ReplayItem.recording_started_at <= replay.recording_started_at))
    try:
        replay.save(condition)
        outcome = "ready"
    except PutError as exc:
        if dynamo.error_code(exc) != "ConditionalCheckFailedException":
            raise
        outcome = "superseded"   # a recording that started later is this room's replay already
    if amend is None:
        _settle(prefix, "ready", None)
    if outcome == "ready" and amend is None:
        publish_event(ReplayReady(room_id=room_id, duration_seconds=round(duration, 3),
                                  playlist_url=replay_url(replay.master_key), timeline_entries=len(timeline),
                                  clips=clips, recording_started_at=replay.recording_started_at))
    if outcome == "ready":
        # A mark saved while this ran, and not read above, re-reads this replay when its own save
        # is done (record_mark) or is read here: re-time once more after the write; a difference
        # is published again (amend) until a re-read changes nothing.
        again = rules.retime(marks_of(room_id), ended.recording_started_at, duration)
        if again != timeline:
            amended = publish(event, amend=replay)
            timeline, clips = amended["timeline"], amended["clips"]
    if amend is not None:
        return {"outcome": outcome, "timeline": timeline, "clips": clips}
    return {"outcome": outcome, "room_id": room_id, "duration_seconds": round(duration, 3),
            "timeline_entries": len(timeline), "clips": clips}


def record_outcome(event: dict[str, Any], state: str) -> dict[str, Any]:
    """A recording that did not give a replay: visible on the recording and, unless the room has a
    ready replay, on the room's replay (GET answers 409 replay_not_ready with this state)."""
    from pynamodb.exceptions import PutError  # deferred: pynamodb

    bind_all()
    prefix, room_id = event["prefix"].strip("/"), event.get("room_id")
    cause = event.get("error") or {}
    detail = {"missing_recording": f"{rules.RECORDING_ENDED} did not appear under the recording's prefix",
              "recording_failed": "IVS wrote recording-failed.json",
              "failed": str(cause.get("Error") or "") + ": " + str(cause.get("Cause") or "")[:300]}[state]
    _settle(prefix, state, detail)
    if room_id:
        item = ReplayItem(*ReplayItem.key(room_id), room_id=room_id, state=state, prefix=prefix,
                          bucket=event["bucket"], recording_started_at="", detail=detail)
        try:
            item.save(ReplayItem.pk.does_not_exist() | (ReplayItem.state != "ready"))
        except PutError as exc:
            if dynamo.error_code(exc) != "ConditionalCheckFailedException":
                raise
    return {"outcome": state, "room_id": room_id}


def _settle(prefix: str, state: str, detail: str | None) -> None:
    recording = rules.recording_id(prefix)
    actions = [RecordingItem.state.set(state), RecordingItem.updated_at.set(now_iso())]
    actions.append(RecordingItem.detail.set(detail) if detail else RecordingItem.detail.remove())
    try:
        RecordingItem(*RecordingItem.key(recording)).update(actions=actions, condition=RecordingItem.pk.exists())
    except Exception as exc:  # noqa: BLE001
        if dynamo.error_code(exc) != "ConditionalCheckFailedException":
            raise


def _bandwidths(bucket: str, master_key: str) -> dict[str, int]:
    import m3u8  # deferred: only the publish task parses the master playlist

    try:
        text = _s3().get_object(Bucket=bucket, Key=master_key)["Body"].read().decode()
    except Exception:  # noqa: BLE001 - the master playlist is optional for us: bandwidth estimated
        return {}
    out = {}
    for playlist in m3u8.loads(text).playlists:
        out[playlist.uri.split("/")[0]] = int(playlist.stream_info.bandwidth or 0)
    return out


def _thumbnails(bucket: str, folder: str | None, limit: int = 500) -> list[str]:
    if not folder:
        return []
    keys: list[str] = []
    paginator = _s3().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=folder + "/"):
        keys += [o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".jpg")]
    number = re.compile(r"(\d+)\.jpg$")
    keys.sort(key=lambda k: int(number.search(k).group(1)) if number.search(k) else 0)
    return keys[:limit]


def _write_clip(replay: ReplayItem, segments_by_path: dict[str, list[rules.Segment]], clip_id: str,
                start_s: float, end_s: float, *, kind: str, product_id: str | None, title: str | None,
                created_by: str | None) -> ClipItem:
    folder = rules.join(replay.prefix, "clips", clip_id)
    variants = []
    for rendition in replay.renditions or []:
        segments = segments_by_path[rendition["path"]]
        rendition_dir = posixpath.dirname(rendition["key"])
        clip_dir = rules.join(folder, rendition["path"])
        uri_prefix = posixpath.relpath(rendition_dir, clip_dir) + "/"
        text = rules.clip_playlist(segments, start_s, end_s, uri_prefix=uri_prefix)
        _s3().put_object(Bucket=replay.bucket, Key=rules.join(clip_dir, "playlist.m3u8"), Body=text.encode(),
                         ContentType=PLAYLIST_TYPE)
        bandwidth = rendition.get("bandwidth") or (rendition.get("width") or 640) * (rendition.get("height") or 360) * 3
        variants.append((f"{rendition['path']}/playlist.m3u8", rendition.get("width"), rendition.get("height"),
                         bandwidth))
    master_key = rules.join(folder, "master.m3u8")
    _s3().put_object(Bucket=replay.bucket, Key=master_key, Body=rules.master_playlist(variants).encode(),
                     ContentType=PLAYLIST_TYPE)
    clip = ClipItem(*ClipItem.key(replay.room_id, clip_id), clip_id=clip_id, room_id=replay.room_id, kind=kind,
                    product_id=product_id, title=title, start_seconds=start_s, end_seconds=end_s,
                    master_key=master_key, prefix=replay.prefix, created_by=created_by, created_at=now_iso())
    clip.save()
    return clip


# ------------------------------------------------------------------------------ routes

def _replay(room_id: str) -> ReplayItem:
    from pynamodb.exceptions import DoesNotExist  # deferred: pynamodb

    bind_all()
    try:
        item = ReplayItem.get(*ReplayItem.key(room_id), consistent_read=True)
    except DoesNotExist:
        raise NotFound("This room has no replay (yet): it is made when its recording ends",
                       code="replay_not_found") from None
    if item.state != "ready":
        raise Conflict(f"The replay is not ready: {item.state}", code="replay_not_ready", state=item.state)
    return item


def replay_view(replay: ReplayItem, urls: ReplayUrls | BareUrls) -> dict[str, Any]:
    return {
        "room_id": replay.room_id, "state": replay.state, "playlist_url": urls(replay.master_key),
        "playlist_expires_at": _iso(datetime.fromtimestamp(urls.expires_at, timezone.utc))
        if urls.expires_at is not None else None,
        "duration_seconds": round((replay.duration_ms or 0) / 1000.0, 3),
        "recording_started_at": replay.recording_started_at, "recording_ended_at": replay.recording_ended_at,
        "ready_at": replay.ready_at,
        "renditions": [{"path": r["path"], "width": r.get("width"), "height": r.get("height"),
                        "playlist_url": urls(r["key"])} for r in replay.renditions or []],
        "thumbnails": [urls(k) for k in replay.thumbnails or []],
        "timeline": list(replay.timeline or []),
    }


def clip_view(clip: ClipItem, urls: ReplayUrls | BareUrls) -> dict[str, Any]:
    return {"clip_id": clip.clip_id, "kind": clip.kind, "product_id": clip.product_id, "title": clip.title,
            "start_seconds": float(clip.start_seconds), "end_seconds": float(clip.end_seconds),
            "duration_seconds": round(float(clip.end_seconds) - float(clip.start_seconds), 3),
            "playlist_url": urls(clip.master_key), "created_at": clip.created_at}


def get_replay(caller: Any, room_id: str) -> dict[str, Any]:
    room = rooms.require_visible(room_id, caller)
    replay = _replay(room_id)
    return replay_view(replay, _urls_for(caller, room, replay))


def list_clips(caller: Any, room_id: str) -> list[dict[str, Any]]:
    room = rooms.require_visible(room_id, caller)
    replay = _replay(room_id)
    clips = ClipItem.query(f"REPLAY#{room_id}", ClipItem.sk.startswith("CLIP#"), consistent_read=True)
    urls = _urls_for(caller, room, replay)
    return [clip_view(c, urls) for c in clips if c.prefix == replay.prefix]


def create_clip(caller: Any, room_id: str, start_s: float, end_s: float, product_id: str | None,
                title: str | None) -> dict[str, Any]:
    room = rooms.require_room_host(caller, room_id)
    replay = _replay(room_id)
    try:
        rules.check_clip(start_s, end_s, (replay.duration_ms or 0) / 1000.0)
    except rules.ClipOutsideRecording as exc:
        raise ValidationFailed(str(exc), code="clip_outside_recording") from None
    segments_by_path = {}
    for rendition in replay.renditions or []:
        text = _s3().get_object(Bucket=replay.bucket, Key=rendition["key"])["Body"].read().decode()
        segments_by_path[rendition["path"]] = rules.segments_of(text)
    try:
        clip = _write_clip(replay, segments_by_path, new_ulid(), start_s, end_s, kind="host",
                           product_id=product_id, title=title, created_by=caller.user_id)
    except rules.ClipOutsideRecording as exc:
        raise ValidationFailed(str(exc), code="clip_outside_recording") from None
    return clip_view(clip, _urls_for(caller, room, replay))

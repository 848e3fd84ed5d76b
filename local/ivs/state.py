"""The IVS stand-in's state: channels, stream keys, live streams, playback key
pairs, recording configurations and timed metadata, kept in memory.

Every public method is thread safe (one lock). Methods that model an API call
raise `IvsError` with the error code and HTTP status the real service uses
(the codes are the error shapes of botocore's ``ivs`` model), so the control
plane only has to serialize them.

The stream lifecycle is driven by the ingest server (nginx-rtmp callbacks) and
by the HLS watcher:

    authorize_publish  encoder connected with a stream key  -> "Session Created"
    segments_available first HLS segment on disk             -> "Stream Start" (+ "Recording Start")
    publish_done       encoder gone (or dropped by StopStream) -> "Session Ended", "Stream End"
                       and, after the recording reconnect window, "Recording End"

Events go to `emit(detail_type, resources, detail)`; the caller decides where
(EventBridge, a list in a test, ...). `emit` is called outside the lock.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import string
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

_ALNUM = string.ascii_letters + string.digits

STREAM_STATE_CHANGE = "IVS Stream State Change"
RECORDING_STATE_CHANGE = "IVS Recording State Change"

METADATA_MAX_BYTES = 1024           # PutMetadata: "Maximum: 1 KB per request"
METADATA_MAX_PER_SECOND = 5         # PutMetadata: "At most 5 requests per second per channel"
STREAM_KEYS_PER_CHANNEL = 1         # CreateStreamKey: "a limit of 1 stream key per channel"
PLAYBACK_KEY_PAIRS_PER_REGION = 3   # IVS service quota "Playback key pairs"
VIEWER_IDLE_SECONDS = 15.0          # a view counts while its player polls the playlist
TAKEOVER_WAIT_SECONDS = 5.0         # a takeover publisher waits this long for the previous one to be dropped
COMPOSER_HOLD_SECONDS = 10.0        # a composer that left (restart, layout switch) keeps the session this long

_CHANNEL_ARN = re.compile(r"^arn:aws:ivs:[a-z0-9-]+:[0-9]+:channel/[a-zA-Z0-9-]+$")
_STREAM_KEY_ARN = re.compile(r"^arn:aws:ivs:[a-z0-9-]+:[0-9]+:stream-key/[a-zA-Z0-9-]+$")
_PLAYBACK_KEY_ARN = re.compile(r"^arn:aws:ivs:[a-z0-9-]+:[0-9]+:playback-key/[a-zA-Z0-9-]+$")
_RECORDING_ARN = re.compile(r"^arn:aws:ivs:[a-z0-9-]+:[0-9]+:recording-configuration/[a-zA-Z0-9-]+$")
_NAME = re.compile(r"^[a-zA-Z0-9-_]{0,128}$")
_TOKEN = re.compile(r"^[0-9]{1,9}$")

Emit = Callable[[str, list, dict], None]


class IvsError(Exception):
    """An IVS API error: `code` is the botocore error shape name."""

    STATUS = {
        "ValidationException": 400,
        "AccessDeniedException": 403,
        "PendingVerification": 403,
        "ResourceNotFoundException": 404,
        "ChannelNotBroadcasting": 404,
        "ConflictException": 409,
        "ServiceQuotaExceededException": 402,
        "ThrottlingException": 429,
        "InternalServerException": 500,
        "StreamUnavailable": 503,
    }

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = self.STATUS[code]


def _rand(n: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(n))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{int(ts * 1000) % 1000:03d}Z"


@dataclass
class Channel:
    arn: str
    id: str
    name: str = ""
    latency_mode: str = "LOW"
    type: str = "STANDARD"
    authorized: bool = False
    recording_configuration_arn: str = ""
    playback_restriction_policy_arn: str = ""
    insecure_ingest: bool = False
    preset: str = ""
    container_format: str = "TS"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class StreamKey:
    arn: str
    value: str
    channel_arn: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class PlaybackKeyPair:
    arn: str
    name: str
    fingerprint: str
    public_key_pem: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordingConfiguration:
    arn: str
    name: str
    bucket_name: str
    reconnect_window_seconds: int
    tags: dict[str, str] = field(default_factory=dict)
    # IVS's default: a thumbnail every 60 s of the recording (local.ivs.recording writes them)
    thumbnail_configuration: dict = field(default_factory=lambda: {"recordingMode": "INTERVAL",
                                                                   "targetIntervalSeconds": 60})


@dataclass
class LiveStream:
    """One stream session: an encoder publishing with a channel's stream key."""

    stream_id: str
    channel_arn: str
    stream_key: str                    # the RTMP stream name; HLS files are named after it
    client_id: str                     # nginx-rtmp connection id
    start_time: float
    playback_secret: str               # path component of variant playlist and segment URLs
    started: bool = False              # "Stream Start" sent (segments available)
    stop_requested: bool = False       # StopStream called; the next on_update drops the encoder
    viewers: dict[str, float] = field(default_factory=dict)
    composer: str = ""                 # the composition ARN when the publisher is a stage composer
    dropping: set = field(default_factory=set)   # client ids a takeover is dropping (next on_update)
    hold: threading.Timer | None = None          # a composer left: the session waits for the next publisher


@dataclass
class RecordingSession:
    session_id: str
    bucket_name: str
    key_prefix: str
    started_at: float
    stream_ids: list[str] = field(default_factory=list)
    duration_ms: int = 0
    last_stream_id: str = ""
    end_timer: threading.Timer | None = None


class IvsState:
    def __init__(self, *, region: str, account_id: str, ingest_endpoint: Callable[[], str],
                 playback_url: Callable[[str], str], emit: Emit, metadata_history: int = 50,
                 clock: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
                 composer_active: Callable[[str, str], bool] = lambda composition, channel: False,
                 hold_seconds: float = COMPOSER_HOLD_SECONDS, takeover_wait: float = TAKEOVER_WAIT_SECONDS) -> None:
        self.region = region
        self.account_id = account_id
        self._ingest_endpoint = ingest_endpoint
        self._playback_url = playback_url
        self._emit = emit
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)        # a publisher left (takeovers wait on it)
        self._composer_active = composer_active                # (composition ARN, channel ARN) -> composing into it?
        self._hold_seconds = hold_seconds
        self._takeover_wait = takeover_wait
        self.channels: dict[str, Channel] = {}                 # by arn, in creation order
        self.stream_keys: dict[str, StreamKey] = {}            # by arn
        self.key_pairs: dict[str, PlaybackKeyPair] = {}        # by arn
        self.recording_configurations: dict[str, RecordingConfiguration] = {}
        self.extra_public_keys: list[str] = []                 # configured, not imported
        self.live: dict[str, LiveStream] = {}                  # by channel arn
        self._recordings: dict[str, RecordingSession] = {}     # by channel arn, until Recording End
        self._metadata: dict[str, deque] = {}                  # by channel arn
        self._metadata_history = metadata_history
        self._metadata_calls: dict[str, deque] = {}            # monotonic times of recent PutMetadata

    # ------------------------------------------------------------------ helpers
    def _arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:ivs:{self.region}:{self.account_id}:{kind}/{resource_id}"

    def _channel(self, arn: Any, *, member: str = "arn") -> Channel:
        if not isinstance(arn, str) or not _CHANNEL_ARN.match(arn) or len(arn) > 128:
            raise IvsError("ValidationException", f"{member} must be a channel ARN")
        channel = self.channels.get(arn)
        if channel is None:
            raise IvsError("ResourceNotFoundException", f"ResourceNotFoundException: channel {arn} not found")
        return channel

    def _stream_key(self, arn: Any) -> StreamKey:
        if not isinstance(arn, str) or not _STREAM_KEY_ARN.match(arn) or len(arn) > 128:
            raise IvsError("ValidationException", "arn must be a stream-key ARN")
        key = self.stream_keys.get(arn)
        if key is None:
            raise IvsError("ResourceNotFoundException", f"ResourceNotFoundException: stream key {arn} not found")
        return key

    @staticmethod
    def _tags(value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, dict) or len(value) > 50 or not all(
                isinstance(k, str) and isinstance(v, str) and 1 <= len(k) <= 128 and len(v) <= 256
                for k, v in value.items()):
            raise IvsError("ValidationException", "tags must be at most 50 string:string pairs")
        return dict(value)

    @staticmethod
    def _name(value: Any, member: str = "name") -> str:
        if value is None:
            return ""
        if not isinstance(value, str) or not _NAME.match(value):
            raise IvsError("ValidationException", f"{member} must match [a-zA-Z0-9-_]* (at most 128 characters)")
        return value

    @staticmethod
    def _page(items: list, body: dict, max_allowed: int, default: int) -> tuple[list, str | None]:
        max_results = body.get("maxResults", default)
        if not isinstance(max_results, int) or not 1 <= max_results <= max_allowed:
            raise IvsError("ValidationException", f"maxResults must be between 1 and {max_allowed}")
        token = body.get("nextToken") or "0"
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise IvsError("ValidationException", "nextToken is not valid")
        start = int(token)
        page = items[start:start + max_results]
        more = start + max_results < len(items)
        return page, (str(start + max_results) if more else None)

    # ------------------------------------------------------------------ shapes
    def channel_shape(self, c: Channel) -> dict[str, Any]:
        return {
            "arn": c.arn, "name": c.name, "latencyMode": c.latency_mode, "type": c.type,
            "recordingConfigurationArn": c.recording_configuration_arn,
            "ingestEndpoint": self._ingest_endpoint(), "playbackUrl": self._playback_url(c.id),
            "authorized": c.authorized, "tags": dict(c.tags), "insecureIngest": c.insecure_ingest,
            "preset": c.preset, "playbackRestrictionPolicyArn": c.playback_restriction_policy_arn,
            "containerFormat": c.container_format, "multitrackInputConfiguration": {"enabled": False},
        }

    @staticmethod
    def _channel_summary(c: Channel) -> dict[str, Any]:
        return {
            "arn": c.arn, "name": c.name, "latencyMode": c.latency_mode, "authorized": c.authorized,
            "recordingConfigurationArn": c.recording_configuration_arn, "tags": dict(c.tags),
            "insecureIngest": c.insecure_ingest, "type": c.type, "preset": c.preset,
            "playbackRestrictionPolicyArn": c.playback_restriction_policy_arn,
        }

    @staticmethod
    def _key_shape(k: StreamKey) -> dict[str, Any]:
        return {"arn": k.arn, "value": k.value, "channelArn": k.channel_arn, "tags": dict(k.tags)}

    def _viewer_count(self, s: LiveStream) -> int:
        horizon = self._monotonic() - VIEWER_IDLE_SECONDS
        return sum(1 for seen in s.viewers.values() if seen >= horizon)

    def _stream_shape(self, s: LiveStream, channel: Channel) -> dict[str, Any]:
        return {
            "channelArn": s.channel_arn, "streamId": s.stream_id, "playbackUrl": self._playback_url(channel.id),
            "startTime": _iso(s.start_time), "state": "LIVE", "health": "HEALTHY",
            "viewerCount": self._viewer_count(s),
        }

    # ------------------------------------------------------------------ channels
    def _channel_settings(self, body: dict, channel: Channel) -> None:
        if "name" in body:
            channel.name = self._name(body["name"])
        if "latencyMode" in body:
            if body["latencyMode"] not in ("NORMAL", "LOW"):
                raise IvsError("ValidationException", "latencyMode must be NORMAL or LOW")
            channel.latency_mode = body["latencyMode"]
        if "type" in body:
            if body["type"] not in ("BASIC", "STANDARD", "ADVANCED_SD", "ADVANCED_HD"):
                raise IvsError("ValidationException", "type must be BASIC, STANDARD, ADVANCED_SD or ADVANCED_HD")
            channel.type = body["type"]
        for member, attr in (("authorized", "authorized"), ("insecureIngest", "insecure_ingest")):
            if member in body:
                if not isinstance(body[member], bool):
                    raise IvsError("ValidationException", f"{member} must be a boolean")
                setattr(channel, attr, body[member])
        if "recordingConfigurationArn" in body:
            arn = body["recordingConfigurationArn"] or ""
            if not isinstance(arn, str) or (arn and not _RECORDING_ARN.match(arn)):
                raise IvsError("ValidationException", "recordingConfigurationArn must be a recording-configuration ARN")
            if arn and arn not in self.recording_configurations:
                raise IvsError("ResourceNotFoundException",
                               f"ResourceNotFoundException: recording configuration {arn} not found")
            channel.recording_configuration_arn = arn
        if "playbackRestrictionPolicyArn" in body:
            channel.playback_restriction_policy_arn = body["playbackRestrictionPolicyArn"] or ""
        if "preset" in body:
            if body["preset"] not in ("", "HIGHER_BANDWIDTH_DELIVERY", "CONSTRAINED_BANDWIDTH_DELIVERY"):
                raise IvsError("ValidationException", "preset is not valid")
            channel.preset = body["preset"]
        if "containerFormat" in body:
            if body["containerFormat"] not in ("TS", "FRAGMENTED_MP4"):
                raise IvsError("ValidationException", "containerFormat must be TS or FRAGMENTED_MP4")
            channel.container_format = body["containerFormat"]
        multitrack = body.get("multitrackInputConfiguration")
        if isinstance(multitrack, dict) and multitrack.get("enabled"):
            raise IvsError("ValidationException", "multitrack input is not supported by the local IVS stand-in")

    def create_channel(self, body: dict) -> dict[str, Any]:
        with self._lock:
            channel_id = _rand(12)
            channel = Channel(arn=self._arn("channel", channel_id), id=channel_id)
            self._channel_settings(body, channel)
            channel.tags = self._tags(body.get("tags"))
            self.channels[channel.arn] = channel
            key = self._new_stream_key(channel, {})
            return {"channel": self.channel_shape(channel), "streamKey": self._key_shape(key)}

    def update_channel(self, body: dict) -> dict[str, Any]:
        with self._lock:
            channel = self._channel(body.get("arn"))
            if channel.arn in self.live:
                raise IvsError("ConflictException", "ConflictException: channel is live; stop the stream first")
            self._channel_settings({k: v for k, v in body.items() if k != "arn"}, channel)
            return {"channel": self.channel_shape(channel)}

    def get_channel(self, body: dict) -> dict[str, Any]:
        with self._lock:
            return {"channel": self.channel_shape(self._channel(body.get("arn")))}

    def batch_get_channel(self, body: dict) -> dict[str, Any]:
        arns = body.get("arns")
        if not isinstance(arns, list) or not 1 <= len(arns) <= 50:
            raise IvsError("ValidationException", "arns must hold 1 to 50 channel ARNs")
        with self._lock:
            channels, errors = [], []
            for arn in arns:
                channel = self.channels.get(arn)
                if channel is None:
                    errors.append({"arn": arn, "code": "ResourceNotFoundException", "message": "channel not found"})
                else:
                    channels.append(self.channel_shape(channel))
            return {"channels": channels, "errors": errors}

    def list_channels(self, body: dict) -> dict[str, Any]:
        with self._lock:
            items = list(self.channels.values())
            name = body.get("filterByName")
            recording = body.get("filterByRecordingConfigurationArn")
            if name and recording:
                raise IvsError("ConflictException", "filterByName and filterByRecordingConfigurationArn "
                                                    "cannot be used together")
            if name:
                items = [c for c in items if c.name == name]
            if recording:
                items = [c for c in items if c.recording_configuration_arn == recording]
            page, token = self._page(items, body, 100, 100)
            out: dict[str, Any] = {"channels": [self._channel_summary(c) for c in page]}
            if token:
                out["nextToken"] = token
            return out

    def delete_channel(self, body: dict) -> None:
        with self._lock:
            channel = self._channel(body.get("arn"))
            if channel.arn in self.live:
                raise IvsError("ConflictException", "ConflictException: the channel is live. Call StopStream, wait "
                                                    "for the Stream End event, then DeleteChannel.")
            for arn in [a for a, k in self.stream_keys.items() if k.channel_arn == channel.arn]:
                del self.stream_keys[arn]
            del self.channels[channel.arn]
            self._metadata.pop(channel.arn, None)
            self._metadata_calls.pop(channel.arn, None)

    # ------------------------------------------------------------------ stream keys
    def _new_stream_key(self, channel: Channel, tags: dict[str, str]) -> StreamKey:
        if sum(1 for k in self.stream_keys.values() if k.channel_arn == channel.arn) >= STREAM_KEYS_PER_CHANNEL:
            raise IvsError("ServiceQuotaExceededException",
                           "ServiceQuotaExceededException: a channel has at most 1 stream key; "
                           "delete it (DeleteStreamKey) before creating another")
        value = f"sk_{self.region}_{_rand(12)}_{_rand(36)}"
        key = StreamKey(arn=self._arn("stream-key", _rand(12)), value=value, channel_arn=channel.arn, tags=tags)
        self.stream_keys[key.arn] = key
        return key

    def create_stream_key(self, body: dict) -> dict[str, Any]:
        with self._lock:
            channel = self._channel(body.get("channelArn"), member="channelArn")
            return {"streamKey": self._key_shape(self._new_stream_key(channel, self._tags(body.get("tags"))))}

    def get_stream_key(self, body: dict) -> dict[str, Any]:
        with self._lock:
            return {"streamKey": self._key_shape(self._stream_key(body.get("arn")))}

    def batch_get_stream_key(self, body: dict) -> dict[str, Any]:
        arns = body.get("arns")
        if not isinstance(arns, list) or not 1 <= len(arns) <= 50:
            raise IvsError("ValidationException", "arns must hold 1 to 50 stream-key ARNs")
        with self._lock:
            keys, errors = [], []
            for arn in arns:
                key = self.stream_keys.get(arn)
                if key is None:
                    errors.append({"arn": arn, "code": "ResourceNotFoundException", "message": "stream key not found"})
                else:
                    keys.append(self._key_shape(key))
            return {"streamKeys": keys, "errors": errors}

    def list_stream_keys(self, body: dict) -> dict[str, Any]:
        with self._lock:
            channel = self._channel(body.get("channelArn"), member="channelArn")
            items = [k for k in self.stream_keys.values() if k.channel_arn == channel.arn]
            page, token = self._page(items, body, 50, 1)
            out: dict[str, Any] = {"streamKeys": [{"arn": k.arn, "channelArn": k.channel_arn, "tags": dict(k.tags)}
                                                  for k in page]}
            if token:
                out["nextToken"] = token
            return out

    def delete_stream_key(self, body: dict) -> None:
        with self._lock:
            key = self._stream_key(body.get("arn"))
            del self.stream_keys[key.arn]   # a live stream goes on, as on IVS (StopStream ends it)

    # ------------------------------------------------------------------ streams
    def get_stream(self, body: dict) -> dict[str, Any]:
        with self._lock:
            channel = self._channel(body.get("channelArn"), member="channelArn")
            stream = self.live.get(channel.arn)
            if stream is None:
                raise IvsError("ChannelNotBroadcasting", "ChannelNotBroadcasting: the channel is not live")
            return {"stream": self._stream_shape(stream, channel)}

    def list_streams(self, body: dict) -> dict[str, Any]:
        with self._lock:
            health = (body.get("filterBy") or {}).get("health")
            items = [s for s in self.live.values() if health in (None, "HEALTHY")]
            page, token = self._page(items, body, 100, 100)
            out: dict[str, Any] = {"streams": [
                {k: v for k, v in self._stream_shape(s, self.channels[s.channel_arn]).items() if k != "playbackUrl"}
                for s in page]}
            if token:
                out["nextToken"] = token
            return out

    def stop_stream(self, body: dict) -> dict[str, Any]:
        with self._lock:
            channel = self._channel(body.get("channelArn"), member="channelArn")
            stream = self.live.get(channel.arn)
            if stream is None:
                raise IvsError("ChannelNotBroadcasting", "ChannelNotBroadcasting: the channel is not live")
            stream.stop_requested = True    # the ingest server drops the encoder at its next status check
            return {}

    def put_metadata(self, body: dict) -> None:
        metadata = body.get("metadata")
        if not isinstance(metadata, str) or not metadata:
            raise IvsError("ValidationException", "metadata is required")
        if len(metadata.encode("utf-8")) > METADATA_MAX_BYTES:
            raise IvsError("ValidationException", "ValidationException: metadata exceeds the maximum of 1 KB")
        with self._lock:
            channel = self._channel(body.get("channelArn"), member="channelArn")
            stream = self.live.get(channel.arn)
            if stream is None:
                raise IvsError("ChannelNotBroadcasting", "ChannelNotBroadcasting: the channel is not live")
            now = self._monotonic()
            calls = self._metadata_calls.setdefault(channel.arn, deque())
            while calls and now - calls[0] >= 1.0:
                calls.popleft()
            if len(calls) >= METADATA_MAX_PER_SECOND:
                raise IvsError("ThrottlingException", "ThrottlingException: at most 5 PutMetadata requests per "
                                                      "second per channel")
            calls.append(now)
            history = self._metadata.setdefault(channel.arn, deque(maxlen=self._metadata_history))
            history.append({"time": _iso(self._clock()), "streamId": stream.stream_id, "metadata": metadata})

    def metadata(self, channel_arn: str) -> list[dict[str, Any]]:
        """The last metadata put on the channel, oldest first."""
        with self._lock:
            return list(self._metadata.get(channel_arn, ()))

    # ------------------------------------------------------------------ playback key pairs
    def import_playback_key_pair(self, body: dict) -> dict[str, Any]:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        material = body.get("publicKeyMaterial")
        if not isinstance(material, str) or not material.strip():
            raise IvsError("ValidationException", "publicKeyMaterial is required")
        try:
            public_key = serialization.load_pem_public_key(material.strip().encode())
        except ValueError:
            raise IvsError("ValidationException", "publicKeyMaterial is not a PEM public key") from None
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp384r1":
            raise IvsError("ValidationException", "publicKeyMaterial must be an ECDSA P-384 public key")
        der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        fingerprint = ":".join(f"{b:02x}" for b in hashlib.sha256(der).digest())
        name = self._name(body.get("name"))
        tags = self._tags(body.get("tags"))
        with self._lock:
            if any(k.fingerprint == fingerprint for k in self.key_pairs.values()):
                raise IvsError("ConflictException", "ConflictException: this public key is already imported")
            if len(self.key_pairs) >= PLAYBACK_KEY_PAIRS_PER_REGION:
                raise IvsError("ServiceQuotaExceededException",
                               f"ServiceQuotaExceededException: at most {PLAYBACK_KEY_PAIRS_PER_REGION} "
                               "playback key pairs")
            pem = public_key.public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode()
            pair = PlaybackKeyPair(arn=self._arn("playback-key", _rand(12)), name=name, fingerprint=fingerprint,
                                   public_key_pem=pem, tags=tags)
            self.key_pairs[pair.arn] = pair
            return {"keyPair": {"arn": pair.arn, "name": pair.name, "fingerprint": pair.fingerprint,
                                "tags": dict(pair.tags)}}

    def _key_pair(self, arn: Any) -> PlaybackKeyPair:
        if not isinstance(arn, str) or not _PLAYBACK_KEY_ARN.match(arn):
            raise IvsError("ValidationException", "arn must be a playback-key ARN")
        pair = self.key_pairs.get(arn)
        if pair is None:
            raise IvsError("ResourceNotFoundException", f"ResourceNotFoundException: playback key {arn} not found")
        return pair

    def get_playback_key_pair(self, body: dict) -> dict[str, Any]:
        with self._lock:
            p = self._key_pair(body.get("arn"))
            return {"keyPair": {"arn": p.arn, "name": p.name, "fingerprint": p.fingerprint, "tags": dict(p.tags)}}

    def list_playback_key_pairs(self, body: dict) -> dict[str, Any]:
        with self._lock:
            page, token = self._page(list(self.key_pairs.values()), body, 100, 100)
            out: dict[str, Any] = {"keyPairs": [{"arn": p.arn, "name": p.name, "tags": dict(p.tags)} for p in page]}
            if token:
                out["nextToken"] = token
            return out

    def delete_playback_key_pair(self, body: dict) -> dict[str, Any]:
        with self._lock:
            del self.key_pairs[self._key_pair(body.get("arn")).arn]
            return {}

    def playback_public_keys(self) -> list[str]:
        with self._lock:
            return [p.public_key_pem for p in self.key_pairs.values()] + list(self.extra_public_keys)

    # ------------------------------------------------------------------ recording configurations
    def create_recording_configuration(self, body: dict) -> dict[str, Any]:
        s3 = ((body.get("destinationConfiguration") or {}).get("s3") or {})
        bucket = s3.get("bucketName")
        if not isinstance(bucket, str) or not 3 <= len(bucket) <= 63:
            raise IvsError("ValidationException", "destinationConfiguration.s3.bucketName is required")
        window = body.get("recordingReconnectWindowSeconds", 0)
        if not isinstance(window, (int, float)) or isinstance(window, bool) or not 0 <= window <= 300:
            raise IvsError("ValidationException", "recordingReconnectWindowSeconds must be between 0 and 300")
        thumbnails = {"recordingMode": "INTERVAL", "targetIntervalSeconds": 60, **(body.get("thumbnailConfiguration") or {})}
        interval = thumbnails.get("targetIntervalSeconds")
        if thumbnails.get("recordingMode") not in ("INTERVAL", "DISABLED") or not isinstance(interval, int) \
                or isinstance(interval, bool) or not 1 <= interval <= 60:
            raise IvsError("ValidationException", "thumbnailConfiguration: recordingMode INTERVAL or DISABLED, "
                                                  "targetIntervalSeconds between 1 and 60")
        with self._lock:
            config = RecordingConfiguration(arn=self._arn("recording-configuration", _rand(12)),
                                            name=self._name(body.get("name")), bucket_name=bucket,
                                            reconnect_window_seconds=window, tags=self._tags(body.get("tags")),
                                            thumbnail_configuration=thumbnails)
            self.recording_configurations[config.arn] = config
            return {"recordingConfiguration": self._recording_shape(config)}

    @staticmethod
    def _recording_shape(c: RecordingConfiguration) -> dict[str, Any]:
        return {"arn": c.arn, "name": c.name, "destinationConfiguration": {"s3": {"bucketName": c.bucket_name}},
                "state": "ACTIVE", "tags": dict(c.tags), "recordingReconnectWindowSeconds": c.reconnect_window_seconds,
                "thumbnailConfiguration": dict(c.thumbnail_configuration),
                "renditionConfiguration": {"renditionSelection": "ALL"}}

    def _recording(self, arn: Any) -> RecordingConfiguration:
        if not isinstance(arn, str) or not _RECORDING_ARN.match(arn):
            raise IvsError("ValidationException", "arn must be a recording-configuration ARN")
        config = self.recording_configurations.get(arn)
        if config is None:
            raise IvsError("ResourceNotFoundException", f"ResourceNotFoundException: {arn} not found")
        return config

    def get_recording_configuration(self, body: dict) -> dict[str, Any]:
        with self._lock:
            return {"recordingConfiguration": self._recording_shape(self._recording(body.get("arn")))}

    def list_recording_configurations(self, body: dict) -> dict[str, Any]:
        with self._lock:
            page, token = self._page(list(self.recording_configurations.values()), body, 100, 50)
            out: dict[str, Any] = {"recordingConfigurations": [
                {k: v for k, v in self._recording_shape(c).items()
                 if k in ("arn", "name", "destinationConfiguration", "state", "tags")} for c in page]}
            if token:
                out["nextToken"] = token
            return out

    def delete_recording_configuration(self, body: dict) -> None:
        with self._lock:
            config = self._recording(body.get("arn"))
            if any(c.recording_configuration_arn == config.arn for c in self.channels.values()):
                raise IvsError("ConflictException", "ConflictException: the recording configuration is in use")
            del self.recording_configurations[config.arn]

    # ------------------------------------------------------------------ ingest lifecycle
    def channel_for_key(self, key_value: str) -> Channel | None:
        with self._lock:
            for key in self.stream_keys.values():
                if key.value == key_value:
                    return self.channels.get(key.channel_arn)
            return None

    def authorize_publish(self, key_value: str, client_id: str, composer: str = "") -> LiveStream:
        """An encoder connected with `key_value`: a new stream session, or IvsError to refuse it.

        Takeover (co-streaming, docs/costreaming.md): while the channel is live, a stage composer
        (`composer`: the ARN of a composition composing into this channel) takes the channel from its
        encoder, and the channel's own encoder takes it back from a composer. The session goes on
        (same stream id, no Stream End / Stream Start): the previous publisher is dropped at its next
        status check and this call waits (at most `takeover_wait`) until it is gone, because nginx-rtmp
        takes one publisher per stream name. Anyone else is refused while the channel is live."""
        with self._lock:
            channel = self.channel_for_key(key_value)
            if channel is None:
                raise IvsError("AccessDeniedException", "unknown stream key")
            if composer and not self._composer_active(composer, channel.arn):
                raise IvsError("AccessDeniedException", "no such composition composing into this channel")
            stream = self.live.get(channel.arn)
            if stream is not None:
                if not (composer or stream.composer):
                    raise IvsError("ConflictException", "the channel is already live")
                return self._take_over(stream, client_id, composer)
            stream = LiveStream(stream_id="st-" + _rand(23), channel_arn=channel.arn, stream_key=key_value,
                                client_id=client_id, start_time=self._clock(), playback_secret=_rand(24),
                                composer=composer)
            self.live[channel.arn] = stream
            event = (STREAM_STATE_CHANGE, [channel.arn],
                     {"event_name": "Session Created", "channel_name": channel.name, "stream_id": stream.stream_id})
        self._emit(*event)
        return stream

    def _take_over(self, stream: LiveStream, client_id: str, composer: str) -> LiveStream:
        """(under the lock) Hand the live session to `client_id`; the previous publisher is dropped."""
        if stream.hold is not None:
            stream.hold.cancel()
            stream.hold = None
        if stream.client_id:
            stream.dropping.add(stream.client_id)
            deadline = self._monotonic() + self._takeover_wait
            while stream.client_id and self.live.get(stream.channel_arn) is stream:
                left = deadline - self._monotonic()
                if left <= 0:
                    stream.dropping.discard(stream.client_id)   # it stays on air
                    raise IvsError("ConflictException", "the channel's publisher did not leave in time")
                self._changed.wait(left)
            if self.live.get(stream.channel_arn) is not stream:
                raise IvsError("ConflictException", "the session ended during the takeover")
        stream.client_id, stream.composer = client_id, composer
        return stream

    def keep_publishing(self, key_value: str, client_id: str) -> bool:
        """False when the encoder must be dropped (StopStream was called, or a takeover replaces it)."""
        with self._lock:
            for stream in self.live.values():
                if stream.stream_key == key_value and client_id in stream.dropping:
                    return False
                if stream.stream_key == key_value and stream.client_id == client_id:
                    return not stream.stop_requested
            return True   # not ours (e.g. a session from before a restart): leave it alone

    def pending_streams(self) -> list[LiveStream]:
        with self._lock:
            return [s for s in self.live.values() if not s.started]

    def segments_available(self, stream_id: str) -> None:
        """The first HLS segment of the stream is on disk: viewers can play."""
        events = []
        with self._lock:
            stream = next((s for s in self.live.values() if s.stream_id == stream_id), None)
            if stream is None or stream.started:
                return
            stream.started = True
            channel = self.channels[stream.channel_arn]
            events.append((STREAM_STATE_CHANGE, [channel.arn],
                           {"event_name": "Stream Start", "channel_name": channel.name,
                            "stream_id": stream.stream_id}))
            if channel.recording_configuration_arn:
                recording = self._recordings.get(channel.arn)
                if recording is not None and recording.end_timer is not None:
                    # reconnected within the window: the same recording goes on
                    recording.end_timer.cancel()
                    recording.end_timer = None
                    recording.stream_ids.append(stream.stream_id)
                else:
                    config = self.recording_configurations.get(channel.recording_configuration_arn)
                    now = datetime.fromtimestamp(self._clock(), timezone.utc)
                    recording_id = _rand(12)
                    recording = RecordingSession(
                        session_id=_rand(16), bucket_name=config.bucket_name if config else "",
                        key_prefix=(f"ivs/v1/{self.account_id}/{channel.id}/{now.year}/{now.month}/{now.day}/"
                                    f"{now.hour}/{now.minute}/{recording_id}"),
                        started_at=self._clock(), stream_ids=[stream.stream_id])
                    self._recordings[channel.arn] = recording
                    events.append((RECORDING_STATE_CHANGE, [channel.arn], {
                        "channel_name": channel.name, "stream_id": stream.stream_id,
                        "recording_status": "Recording Start", "recording_status_reason": "",
                        "recording_s3_bucket_name": recording.bucket_name,
                        "recording_s3_key_prefix": recording.key_prefix, "recording_duration_ms": 0,
                        "recording_session_id": recording.session_id,
                    }))
        for event in events:
            self._emit(*event)

    def publish_done(self, key_value: str, client_id: str) -> None:
        """The encoder disconnected (or was dropped). A publisher dropped by a takeover leaves the
        session to its successor; a composer that left (restarted, or its composition switched
        layout) holds the session for `hold_seconds` for the next publisher; otherwise it ends."""
        events = []
        with self._lock:
            stream = next((s for s in self.live.values()
                           if s.stream_key == key_value and s.client_id == client_id), None)
            if stream is None:
                for other in self.live.values():
                    other.dropping.discard(client_id)
                return   # a refused publish, or already ended, or already replaced
            if client_id in stream.dropping:
                stream.dropping.discard(client_id)
                stream.client_id = ""
                self._changed.notify_all()
                return
            if stream.composer and not stream.stop_requested:
                stream.client_id = ""
                timer = threading.Timer(self._hold_seconds, self._hold_over, args=(stream,))
                timer.daemon = True
                stream.hold = timer
                timer.start()
                return
            events.extend(self._end_stream(stream))
        for event in events:
            self._emit(*event)

    def _hold_over(self, stream: LiveStream) -> None:
        with self._lock:
            if self.live.get(stream.channel_arn) is not stream or stream.client_id or stream.hold is None:
                return
            stream.hold = None
            events = self._end_stream(stream)
        for event in events:
            self._emit(*event)

    def _end_stream(self, stream: LiveStream) -> list[tuple]:
        del self.live[stream.channel_arn]
        if stream.hold is not None:
            stream.hold.cancel()
            stream.hold = None
        self._changed.notify_all()
        channel = self.channels.get(stream.channel_arn)
        name = channel.name if channel else ""
        events = [(STREAM_STATE_CHANGE, [stream.channel_arn],
                   {"event_name": "Session Ended", "channel_name": name, "stream_id": stream.stream_id})]
        if not stream.started:
            return events   # never went live: no Stream End, no recording
        events.append((STREAM_STATE_CHANGE, [stream.channel_arn],
                       {"event_name": "Stream End", "channel_name": name, "stream_id": stream.stream_id}))
        recording = self._recordings.get(stream.channel_arn)
        if recording is not None and stream.stream_id in recording.stream_ids:
            recording.duration_ms += int((self._clock() - stream.start_time) * 1000)
            recording.last_stream_id = stream.stream_id
            config = self.recording_configurations.get(channel.recording_configuration_arn) if channel else None
            window = config.reconnect_window_seconds if config is not None else 0
            if window <= 0:
                events.append(self._recording_end(stream.channel_arn, name))
            else:
                timer = threading.Timer(window, self._recording_window_over, args=(stream.channel_arn, recording))
                timer.daemon = True
                recording.end_timer = timer
                timer.start()
        return events

    def _recording_window_over(self, channel_arn: str, recording: RecordingSession) -> None:
        with self._lock:
            if self._recordings.get(channel_arn) is not recording or recording.end_timer is None:
                return   # a reconnect cancelled it
            channel = self.channels.get(channel_arn)
            event = self._recording_end(channel_arn, channel.name if channel else "")
        self._emit(*event)

    def _recording_end(self, channel_arn: str, channel_name: str) -> tuple:
        recording = self._recordings.pop(channel_arn)
        recording.end_timer = None
        return (RECORDING_STATE_CHANGE, [channel_arn], {
            "channel_name": channel_name, "stream_id": recording.last_stream_id,
            "recording_status": "Recording End", "recording_status_reason": "",
            "recording_s3_bucket_name": recording.bucket_name, "recording_s3_key_prefix": recording.key_prefix,
            "recording_duration_ms": recording.duration_ms, "recording_session_id": recording.session_id,
            "recording_session_stream_ids": list(recording.stream_ids),
        })

    def end_all(self, *, flush_recordings: bool = False) -> None:
        """Ends every live stream (the ingest server went away); optionally ends recordings now."""
        events = []
        with self._lock:
            for stream in list(self.live.values()):
                events.extend(self._end_stream(stream))
            for channel_arn, recording in list(self._recordings.items()):
                if recording.end_timer is not None:
                    recording.end_timer.cancel()
                    if flush_recordings:
                        channel = self.channels.get(channel_arn)
                        events.append(self._recording_end(channel_arn, channel.name if channel else ""))
                    else:
                        self._recordings.pop(channel_arn)
        for event in events:
            self._emit(*event)

    # ------------------------------------------------------------------ playback
    def live_by_channel_id(self, channel_id: str) -> tuple[Channel | None, LiveStream | None]:
        with self._lock:
            channel = self.channels.get(self._arn("channel", channel_id))
            if channel is None:
                return None, None
            return channel, self.live.get(channel.arn)

    def record_view(self, stream: LiveStream, viewer_id: str) -> None:
        with self._lock:
            now = self._monotonic()
            stream.viewers[viewer_id] = now
            if len(stream.viewers) > 1000:
                horizon = now - VIEWER_IDLE_SECONDS
                for vid in [v for v, t in stream.viewers.items() if t < horizon]:
                    del stream.viewers[vid]

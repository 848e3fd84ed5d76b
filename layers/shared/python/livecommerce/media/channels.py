"""IVS control plane: one private low-latency channel per room, its stream key.

Channel shape (every room gets the same):

- ``type=STANDARD``: IVS transcodes the host's ingest into an adaptive ladder
  (SD/HD/full HD renditions), which is what "SD/HD/UHD adaptive" means for us;
- ``latencyMode=LOW``: a few seconds glass-to-glass, needed for flash sales;
- ``authorized=True``: private playback, every viewer needs a signed token
  (`livecommerce.media.playback`), so test rooms and paid rooms stay closed;
- ``insecureIngest=False``: RTMPS only (no plain RTMP, no unencrypted SRT);
- ``recordingConfigurationArn`` when the stage records (auto-record to S3);
- tags ``room_id``, ``host_id``, ``stage`` so channels can be traced back and
  IAM conditions can use them.

Names are ``lc-<stage>-<room_id>``. IVS CreateChannel takes no client token,
so the name is what makes creation idempotent: before creating, we look the
name up (ListChannels ``filterByName``) and reuse a channel found there. That
covers the common case, a retried create after a crash or a timeout whose
first attempt did succeed. Two creates racing for the same room can both miss
each other; after creating we list again and, if two channels carry the room,
all callers converge on the one with the smallest ARN and the loser deletes
its own. ListChannels is eventually consistent, so this is best effort: the
rooms service should still serialise provisioning (a conditional write on
the room item) and store the channel ARN it gets back.

IVS allows one stream key per channel (CreateStreamKey on a channel that has
one fails with ServiceQuotaExceededException), so rotation is delete then
create; see `rotate_stream_key`.

IVS API rates are low and not adjustable (5 TPS for most channel and
stream-key operations, per account and region): keep the channel ARN,
playback URL and ingest endpoint on the room and do not call IVS per viewer.

The client comes from `livecommerce.shared.aws.client("ivs")`, which honours
``AWS_ENDPOINT_URL_IVS`` / ``AWS_ENDPOINT_URL`` (the local stack's IVS
stand-in speaks the same REST-JSON protocol).
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from livecommerce.media import errors
from livecommerce.media.errors import translate
from livecommerce.shared import aws, problems

logger = logging.getLogger(__name__)
CHANNEL_TYPE = "STANDARD"
LATENCY_MODE = "LOW"
NAME_PREFIX = "lc"
RTMPS_PORT = 443
RTMPS_APP_PATH = "/app/"
# Extra CreateStreamKey attempts after the old key is deleted (boto3 retries
# throttling underneath as well). Delays in seconds between attempts.
ROTATE_RETRY_DELAYS: tuple[float, ...] = (0.5, 1.5)

_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_CHANNEL_ARN_PATTERN = re.compile(r"^arn:aws:ivs:[a-z0-9-]+:[0-9]+:channel/[a-zA-Z0-9-]+$")


@dataclass(frozen=True)
class Channel:
    arn: str
    name: str
    ingest_endpoint: str
    playback_url: str
    latency_mode: str
    type: str
    authorized: bool
    recording_configuration_arn: str = ""
    tags: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def channel_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def room_id(self) -> str | None:
        return self.tags.get("room_id")


@dataclass(frozen=True)
class StreamKey:
    arn: str
    value: str = field(repr=False)  # a secret: anyone holding it can broadcast on the channel
    channel_arn: str


@dataclass(frozen=True)
class Provisioned:
    channel: Channel
    stream_key: StreamKey
    reused: bool = False  # True when an existing channel for the room was found and returned


def _ivs() -> Any:
    return aws.client("ivs")


def _sleep(seconds: float) -> None:  # tests replace this
    if seconds > 0:
        time.sleep(seconds)


# --- names and URLs -------------------------------------------------------

def channel_name(stage: str, room_id: str) -> str:
    """``lc-<stage>-<room_id>``; IVS allows [a-zA-Z0-9-_], at most 128 characters."""
    name = f"{NAME_PREFIX}-{stage}-{room_id}"
    if not stage or not room_id or not _NAME_PATTERN.match(name):
        raise ValueError(f"stage and room id must be letters, digits, '-' or '_' (got {name!r})")
    return name


def ingest_server(channel: Channel) -> str:
    """The bare ingest endpoint (IVS console: "Ingest endpoint"), e.g.
    ``a1b2c3d4e5f6.global-contribute.live-video.net``: what the IVS broadcast
    SDKs and OBS's built-in "Amazon IVS" service take."""
    endpoint = channel.ingest_endpoint.strip()
    return re.sub(r"^[a-z]+://", "", endpoint).rstrip("/")


def ingest_url(channel: Channel) -> str:
    """The RTMPS server URL, ``rtmps://<ingestEndpoint>:443/app/``: OBS's
    "Server" field for a custom service; the stream key goes in its own field.

    IVS always returns a bare host. Anything else is a stand-in and is taken
    at its word: an endpoint with a scheme is used as given; ``host:port``
    (the local IVS stand-in, e.g. ``127.0.0.1:1935``) is plain RTMP unless
    the port is 443.
    """
    endpoint = channel.ingest_endpoint.strip().rstrip("/")
    port = re.search(r":(\d+)$", endpoint)
    if "://" in endpoint:
        base = endpoint
    elif port:
        base = f"{'rtmps' if int(port.group(1)) == RTMPS_PORT else 'rtmp'}://{endpoint}"
    else:
        base = f"rtmps://{endpoint}:{RTMPS_PORT}"
    return base + RTMPS_APP_PATH


def publish_url(channel: Channel, stream_key: StreamKey) -> str:
    """Server URL with the key appended, for ffmpeg (``-f flv <url>``). A secret."""
    return ingest_url(channel) + stream_key.value


# --- conversions ----------------------------------------------------------

def _channel(raw: Mapping[str, Any]) -> Channel:
    return Channel(
        arn=raw["arn"],
        name=raw.get("name", ""),
        ingest_endpoint=raw.get("ingestEndpoint", ""),
        playback_url=raw.get("playbackUrl", ""),
        latency_mode=raw.get("latencyMode", ""),
        type=raw.get("type", ""),
        authorized=bool(raw.get("authorized", False)),
        recording_configuration_arn=raw.get("recordingConfigurationArn", "") or "",
        tags=dict(raw.get("tags") or {}),
    )


def _stream_key(raw: Mapping[str, Any]) -> StreamKey:
    return StreamKey(arn=raw["arn"], value=raw.get("value", ""), channel_arn=raw.get("channelArn", ""))


def _check_channel_arn(channel_arn: str) -> None:
    # Catch our own mistakes before IVS does (its ValidationException is a 502 for clients).
    if not isinstance(channel_arn, str) or not _CHANNEL_ARN_PATTERN.match(channel_arn):
        raise errors.ChannelNotFound("That is not an IVS channel ARN.", retryable=False)


# --- channels -------------------------------------------------------------

def _channels_named(name: str) -> Iterator[Mapping[str, Any]]:
    ivs = _ivs()
    kwargs: dict[str, Any] = {"filterByName": name}
    with translate("look up the room's channel"):
        while True:
            page = ivs.list_channels(**kwargs)
            for summary in page.get("channels", []):
                if summary.get("name") == name:  # the filter is applied server side; be exact anyway
                    yield summary
            token = page.get("nextToken")
            if not token:
                return
            kwargs["nextToken"] = token


def _room_channel_arns(name: str, room_id: str) -> list[str]:
    found = []
    for summary in _channels_named(name):
        tags = summary.get("tags") or {}
        if tags and tags.get("room_id") not in (None, room_id):
            continue  # same name, someone else's channel: never adopt it
        found.append(summary["arn"])
    return sorted(found)


def find_room_channel(room_id: str, *, stage: str) -> Channel | None:
    """The channel already provisioned for the room, if any."""
    arns = _room_channel_arns(channel_name(stage, room_id), room_id)
    return get_channel(arns[0]) if arns else None


def get_channel(channel_arn: str) -> Channel:
    _check_channel_arn(channel_arn)
    with translate("read the channel"):
        return _channel(_ivs().get_channel(arn=channel_arn)["channel"])


def create_room_channel(room_id: str, *, host_id: str, recording_configuration_arn: str | None,
                        stage: str) -> Provisioned:
    """Provision (or find again) the room's private STANDARD/LOW channel and its stream key."""
    name = channel_name(stage, room_id)
    existing = _room_channel_arns(name, room_id)
    if existing:
        return _reuse(existing[0])

    params: dict[str, Any] = {
        "name": name,
        "type": CHANNEL_TYPE,
        "latencyMode": LATENCY_MODE,
        "authorized": True,
        "insecureIngest": False,
        "tags": {"room_id": room_id, "host_id": host_id, "stage": stage},
    }
    if recording_configuration_arn:
        params["recordingConfigurationArn"] = recording_configuration_arn
    # On CreateChannel, ResourceNotFoundException means the recording configuration.
    with translate("create the room's channel", not_found=errors.RecordingConfigurationNotFound):
        created = _ivs().create_channel(**params)
    channel = _channel(created["channel"])
    key = _stream_key(created["streamKey"])

    # Converge with a concurrent create for the same room (see module docstring).
    rivals = _room_channel_arns(name, room_id)
    if len(rivals) > 1 and rivals[0] != channel.arn:
        try:
            delete_channel(channel.arn)
        except problems.Problem as exc:  # the winner is still the right answer; the spare is tagged for cleanup
            logger.warning("could not delete duplicate room channel", extra={
                "room_id": room_id, "channel_arn": channel.arn, "code": exc.code})
        return _reuse(rivals[0])
    return Provisioned(channel=channel, stream_key=key, reused=False)


def _reuse(channel_arn: str) -> Provisioned:
    return Provisioned(channel=get_channel(channel_arn), stream_key=get_stream_key(channel_arn), reused=True)


def delete_channel(channel_arn: str) -> bool:
    """Delete the channel and its stream key. False if it was already gone.

    A live channel cannot be deleted (409 ``channel_busy``): stop the stream,
    wait for the "Stream End" event, then delete.
    """
    _check_channel_arn(channel_arn)
    try:
        with translate("delete the channel"):
            _ivs().delete_channel(arn=channel_arn)
    except errors.ChannelNotFound:
        return False
    return True


def stop_stream(channel_arn: str) -> bool:
    """Disconnect the host's RTMPS session. False if the channel was not live.

    Encoders reconnect on their own; to keep a host off the air, rotate or
    delete the stream key first.
    """
    _check_channel_arn(channel_arn)
    try:
        with translate("stop the stream"):
            _ivs().stop_stream(channelArn=channel_arn)
    except errors.ChannelNotBroadcasting:
        return False
    return True


# --- stream keys ----------------------------------------------------------

def _stream_key_arns(channel_arn: str) -> list[str]:
    ivs = _ivs()
    kwargs: dict[str, Any] = {"channelArn": channel_arn}
    arns: list[str] = []
    with translate("list the channel's stream keys"):
        while True:
            page = ivs.list_stream_keys(**kwargs)
            arns.extend(summary["arn"] for summary in page.get("streamKeys", []))
            token = page.get("nextToken")
            if not token:
                return arns
            kwargs["nextToken"] = token


def _read_stream_key(stream_key_arn: str) -> StreamKey:
    with translate("read the stream key", not_found=errors.StreamKeyNotFound):
        return _stream_key(_ivs().get_stream_key(arn=stream_key_arn)["streamKey"])


def get_stream_key(channel_arn: str, *, create_if_missing: bool = True) -> StreamKey:
    """The channel's stream key (ListStreamKeys, then GetStreamKey for the value).

    A channel without a key (a rotation that revoked the old key and could
    not issue the new one) gets one issued here unless `create_if_missing`
    is False, in which case 404 ``stream_key_not_found``.
    """
    _check_channel_arn(channel_arn)
    arns = _stream_key_arns(channel_arn)
    if arns:
        return _read_stream_key(arns[0])
    if not create_if_missing:
        raise errors.StreamKeyNotFound("The channel has no stream key; rotate to issue one.", retryable=False)
    return _create_stream_key(channel_arn, retry_delays=ROTATE_RETRY_DELAYS, revoked=())


def rotate_stream_key(channel_arn: str, *, retry_delays: Sequence[float] | None = None) -> StreamKey:
    """Revoke the channel's stream key and issue a new one.

    IVS allows one key per channel, so the old key is deleted first, then
    CreateStreamKey. Between the two the channel has no key: an encoder that
    is live keeps streaming (IVS checks the key when a session starts; call
    `stop_stream` to cut it), and a new session cannot start until the new
    key exists. If CreateStreamKey fails after the delete, it is retried
    (`retry_delays`, default `ROTATE_RETRY_DELAYS`); if it still fails, 503
    ``stream_key_rotation_incomplete`` says the old key is gone and rotating
    again (or reading the key) finishes the job.
    """
    _check_channel_arn(channel_arn)
    delays = ROTATE_RETRY_DELAYS if retry_delays is None else tuple(retry_delays)
    revoked = _stream_key_arns(channel_arn)
    for arn in revoked:
        try:
            with translate("revoke the old stream key", not_found=errors.StreamKeyNotFound):
                _ivs().delete_stream_key(arn=arn)
        except errors.StreamKeyNotFound:
            pass  # deleted concurrently: the outcome we wanted
    return _create_stream_key(channel_arn, retry_delays=delays, revoked=tuple(revoked))


def _create_stream_key(channel_arn: str, *, retry_delays: Sequence[float], revoked: Sequence[str]) -> StreamKey:
    ivs = _ivs()
    attempts = 1 + len(retry_delays)
    last: BaseException | None = None
    for attempt in range(attempts):
        if attempt:
            _sleep(retry_delays[attempt - 1])
        try:
            return _stream_key(ivs.create_stream_key(channelArn=channel_arn)["streamKey"])
        except Exception as exc:  # botocore ClientError or a transport failure
            code = errors.error_code(exc)
            if code == "ServiceQuotaExceededException":
                # The channel already has a key again: a concurrent rotation issued
                # it (a fresh key, so use it) or our delete has not settled yet.
                fresh = [arn for arn in _stream_key_arns(channel_arn) if arn not in revoked]
                if fresh:
                    return _read_stream_key(fresh[0])
                last = exc
                continue
            if errors.is_retryable(exc):
                last = exc
                continue
            problem = errors.to_problem(exc, action="issue a new stream key")
            if problem is None:
                raise
            raise problem from exc
    detail = ("The old stream key was revoked, but a new one could not be issued "
              f"after {attempts} attempts; rotate again (or read the key) to finish.")
    raise errors.StreamKeyRotationFailed(detail, headers={"Retry-After": errors.RETRY_AFTER_SECONDS},
                                         retryable=True, upstream_code=errors.error_code(last) if last else None) \
        from last


# --- playback key pairs ---------------------------------------------------

def import_playback_key_pair(public_key_pem: str, *, name: str, tags: Mapping[str, str] | None = None) -> str:
    """Register the public half of a playback key pair with IVS; returns its ARN.

    IVS verifies playback tokens against every imported key pair of the
    account and region, so rotating the signing key is: generate, import,
    start signing with the new private key, delete the old pair later.
    """
    if not _NAME_PATTERN.match(name):
        raise ValueError("key pair name must be letters, digits, '-' or '_'")
    params: dict[str, Any] = {"publicKeyMaterial": public_key_pem, "name": name}
    if tags:
        params["tags"] = dict(tags)
    with translate("import the playback key pair"):
        return _ivs().import_playback_key_pair(**params)["keyPair"]["arn"]

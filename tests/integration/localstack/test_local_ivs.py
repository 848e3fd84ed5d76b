"""The local Amazon IVS stand-in (local.ivs), over real HTTP and real RTMP.

* the control plane answers boto3's ``ivs`` client: shapes, the one-key
  limit, PutMetadata limits, errors parsed into botocore's modeled exceptions;
* a real push with ffmpeg to nginx-rtmp: the IVS events, HLS playback of a
  private channel with ES384 playback tokens, refused stream keys, StopStream,
  the recording reconnect window;
* events reach an EventBridge bus with IVS's envelope.

The push tests need nginx with the RTMP module and ffmpeg (debian-packages.txt,
installed by `make`); they are skipped, saying so, when those are missing.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from typing import Callable

import jwt
import pytest
from botocore.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from local.ivs import IngestUnavailable, LocalIvs
from local.ivs.ingest import find_nginx
from tests.polling import poll

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CAN_PUSH_REASON = None
try:
    find_nginx()
except IngestUnavailable as exc:
    CAN_PUSH_REASON = str(exc)
if CAN_PUSH_REASON is None and shutil.which("ffmpeg") is None:
    CAN_PUSH_REASON = "ffmpeg is not installed: run `make local` (installs debian-packages.txt)"
needs_push = pytest.mark.skipif(CAN_PUSH_REASON is not None, reason=CAN_PUSH_REASON or "")


# ------------------------------------------------------------------ helpers

def p384_pair() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def playback_token(private_pem: str, channel_arn: str, *, ttl: float = 300, **extra) -> str:
    claims = {"aws:channel-arn": channel_arn, "exp": int(time.time() + ttl), **extra}
    return jwt.encode(claims, private_pem, algorithm="ES384")


def metadata_burst(client, channel_arn: str, calls: int) -> list[tuple[float, float, bool]]:
    """PutMetadata from `calls` threads at once: (sent, answered, accepted) per call, monotonic."""
    start = threading.Barrier(calls)
    outcomes: list[tuple[float, float, bool]] = []

    def put(i: int) -> None:
        start.wait()
        sent = time.monotonic()
        try:
            client.put_metadata(channelArn=channel_arn, metadata=json.dumps({"product": i}))
            ok = True
        except client.exceptions.ThrottlingException as exc:
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            ok = False
        outcomes.append((sent, time.monotonic(), ok))

    threads = [threading.Thread(target=put, args=(i,)) for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == calls
    return outcomes


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def wait_for(predicate: Callable[[], object], timeout: float, what: str):
    value = poll(predicate, timeout, interval=0.05)
    if not value:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")
    return value


def push(rtmp_url: str, stream_key: str, seconds: float | None) -> subprocess.Popen:
    """ffmpeg as a host's encoder: test pattern + tone, 1 s keyframes, FLV over RTMP."""
    duration = ["-t", str(seconds)] if seconds else []
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
         "-f", "lavfi", "-i", "testsrc=size=640x360:rate=30", "-f", "lavfi", "-i", "sine",
         *duration, "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
         "-c:a", "aac", "-f", "flv", rtmp_url + stream_key],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_encoder(encoder: subprocess.Popen) -> None:
    """The host stops streaming (ffmpeg closes the connection on SIGTERM); killed if it hangs."""
    if encoder.poll() is None:
        encoder.terminate()
        try:
            encoder.wait(timeout=20)
        except subprocess.TimeoutExpired:
            encoder.kill()
            encoder.wait()


def named(events: list[dict], name: str, stream_id: str | None = None) -> list[dict]:
    return [e for e in events
            if (e["detail"].get("event_name") == name or e["detail"].get("recording_status") == name)
            and (stream_id is None or e["detail"].get("stream_id") == stream_id)]


def media_urls(playback_url: str, multivariant: str) -> str:
    variant = [line for line in multivariant.splitlines() if line and not line.startswith("#")]
    assert len(variant) == 1, multivariant
    return playback_url.rsplit("/", 1)[0] + "/" + variant[0]


# ------------------------------------------------------------------ control plane (no nginx needed)

@pytest.fixture
def control_only():
    events: list[dict] = []
    with LocalIvs(None, ingest=False, rtmp_port=1935, emit=events.append, region="ap-northeast-1") as ivs:
        yield ivs, ivs.client(), events


def test_create_channel_answers_like_ivs(control_only):
    ivs, client, _ = control_only
    created = client.create_channel(name="room-1", latencyMode="LOW", type="BASIC", authorized=True,
                                    tags={"room": "1"})
    channel, key = created["channel"], created["streamKey"]
    channel_id = channel["arn"].rsplit("/", 1)[1]
    assert channel["arn"].startswith("arn:aws:ivs:ap-northeast-1:123456789012:channel/")
    assert channel["name"] == "room-1" and channel["type"] == "BASIC" and channel["latencyMode"] == "LOW"
    assert channel["authorized"] is True and channel["tags"] == {"room": "1"}
    assert channel["recordingConfigurationArn"] == ""
    assert channel["ingestEndpoint"] == "127.0.0.1:1935"
    assert channel["playbackUrl"] == f"{ivs.urls['playback']}/api/video/v1/local.channel.{channel_id}.m3u8"
    assert key["channelArn"] == channel["arn"] and key["value"].startswith("sk_ap-northeast-1_")
    assert ":stream-key/" in key["arn"]

    defaults = client.create_channel()["channel"]
    assert (defaults["type"], defaults["latencyMode"], defaults["authorized"]) == ("STANDARD", "LOW", False)

    assert client.get_channel(arn=channel["arn"])["channel"] == channel
    assert [c["arn"] for c in client.list_channels(filterByName="room-1")["channels"]] == [channel["arn"]]
    assert len(client.list_channels()["channels"]) == 2
    page = client.list_channels(maxResults=1)
    assert len(page["channels"]) == 1 and page["nextToken"]
    assert len(client.list_channels(maxResults=1, nextToken=page["nextToken"])["channels"]) == 1
    assert client.get_stream_key(arn=key["arn"])["streamKey"] == key
    summaries = client.list_stream_keys(channelArn=channel["arn"])["streamKeys"]
    assert summaries == [{"arn": key["arn"], "channelArn": channel["arn"], "tags": {}}]


def test_one_stream_key_per_channel(control_only):
    _, client, _ = control_only
    created = client.create_channel(name="room-2")
    arn, key = created["channel"]["arn"], created["streamKey"]
    with pytest.raises(client.exceptions.ServiceQuotaExceededException) as info:
        client.create_stream_key(channelArn=arn)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402
    client.delete_stream_key(arn=key["arn"])
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_stream_key(arn=key["arn"])
    new_key = client.create_stream_key(channelArn=arn)["streamKey"]
    assert new_key["value"] != key["value"] and new_key["channelArn"] == arn

    client.delete_channel(arn=arn)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_channel(arn=arn)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_stream_key(arn=new_key["arn"])   # keys go with their channel


def test_errors_parse_into_the_modeled_exceptions(control_only):
    _, client, _ = control_only
    arn = client.create_channel(name="room-3")["channel"]["arn"]
    missing = arn.rsplit("/", 1)[0] + "/doesNotExist1"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as info:
        client.get_channel(arn=missing)
    error = info.value.response["Error"]
    assert error["Code"] == "ResourceNotFoundException" and "not found" in error["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(client.exceptions.ValidationException):
        client.get_channel(arn="arn:aws:s3:::not-a-channel")
    with pytest.raises(client.exceptions.ValidationException):
        client.create_channel(name="spaces are not allowed")
    with pytest.raises(client.exceptions.ValidationException):
        client.create_channel(latencyMode="ULTRA")
    with pytest.raises(client.exceptions.ChannelNotBroadcasting):
        client.get_stream(channelArn=arn)
    with pytest.raises(client.exceptions.ChannelNotBroadcasting):
        client.stop_stream(channelArn=arn)
    with pytest.raises(client.exceptions.ChannelNotBroadcasting):
        client.put_metadata(channelArn=arn, metadata="hello")


def test_playback_key_pairs(control_only):
    _, client, _ = control_only
    _, public = p384_pair()
    pair = client.import_playback_key_pair(publicKeyMaterial=public, name="viewers")["keyPair"]
    assert ":playback-key/" in pair["arn"] and pair["name"] == "viewers" and pair["fingerprint"]
    assert [p["arn"] for p in client.list_playback_key_pairs()["keyPairs"]] == [pair["arn"]]
    assert client.get_playback_key_pair(arn=pair["arn"])["keyPair"]["fingerprint"] == pair["fingerprint"]
    with pytest.raises(client.exceptions.ConflictException):
        client.import_playback_key_pair(publicKeyMaterial=public)
    rsa_public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(client.exceptions.ValidationException):
        client.import_playback_key_pair(publicKeyMaterial=rsa_public)
    with pytest.raises(client.exceptions.ValidationException):
        client.import_playback_key_pair(publicKeyMaterial="not a key")
    client.import_playback_key_pair(publicKeyMaterial=p384_pair()[1])
    client.import_playback_key_pair(publicKeyMaterial=p384_pair()[1])
    with pytest.raises(client.exceptions.ServiceQuotaExceededException):
        client.import_playback_key_pair(publicKeyMaterial=p384_pair()[1])
    client.delete_playback_key_pair(arn=pair["arn"])
    assert len(client.list_playback_key_pairs()["keyPairs"]) == 2


def test_nginx_callbacks_drive_the_stream_lifecycle(control_only):
    """What nginx-rtmp posts: unknown keys refused, one publisher per channel."""
    ivs, client, events = control_only
    created = client.create_channel(name="room-4")
    arn, key = created["channel"]["arn"], created["streamKey"]["value"]
    callbacks = ivs.control.callback_url

    def post(callback: str, **form: str) -> int:
        data = "&".join(f"{k}={v}" for k, v in {"app": "app", "addr": "127.0.0.1", **form}.items()).encode()
        request = urllib.request.Request(callbacks + callback, data=data, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert post("on_publish", call="publish", name="sk_wrong", clientid="1") == 403
    assert post("on_publish", call="publish", name=key, clientid="2") == 200
    assert post("on_publish", call="publish", name=key, clientid="3") == 403   # already live
    stream = client.get_stream(channelArn=arn)["stream"]
    assert stream["state"] == "LIVE" and len(stream["streamId"]) == 26
    assert post("on_update", call="update_publish", name=key, clientid="2") == 200
    client.stop_stream(channelArn=arn)
    assert post("on_update", call="update_publish", name=key, clientid="2") == 403   # nginx drops it
    assert post("on_publish_done", call="publish_done", name=key, clientid="2") == 200
    with pytest.raises(client.exceptions.ChannelNotBroadcasting):
        client.get_stream(channelArn=arn)
    ivs.flush_events()
    # no segment was ever written: the session opened and closed, the stream never started
    assert [e["detail"]["event_name"] for e in events] == ["Session Created", "Session Ended"]
    assert events[0]["detail"]["stream_id"] == stream["streamId"]


def test_recording_configurations(control_only):
    ivs, client, events = control_only
    unknown = ivs.recording_configuration_arn.rsplit("/", 1)[0] + "/unknown"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.create_channel(name="room-6", recordingConfigurationArn=unknown)
    default = client.get_recording_configuration(arn=ivs.recording_configuration_arn)["recordingConfiguration"]
    assert default["recordingReconnectWindowSeconds"] == 60 and default["state"] == "ACTIVE"
    config = client.create_recording_configuration(
        name="now", destinationConfiguration={"s3": {"bucketName": "vod-bucket"}})["recordingConfiguration"]
    assert config["recordingReconnectWindowSeconds"] == 0      # the IVS default
    assert len(client.list_recording_configurations()["recordingConfigurations"]) == 2
    channel = client.create_channel(name="room-6", recordingConfigurationArn=config["arn"])
    arn, key = channel["channel"]["arn"], channel["streamKey"]["value"]
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_recording_configuration(arn=config["arn"])   # in use

    stream = ivs.state.authorize_publish(key, "1")      # what on_publish does
    ivs.state.segments_available(stream.stream_id)     # what the HLS watcher does
    ivs.state.publish_done(key, "1")                    # what on_publish_done does
    ivs.flush_events()
    names = [e["detail"].get("event_name") or e["detail"]["recording_status"] for e in events]
    assert names == ["Session Created", "Stream Start", "Recording Start", "Session Ended", "Stream End",
                     "Recording End"]                   # window 0: the recording ends with the stream
    start, end = events[2]["detail"], events[5]["detail"]
    assert start["recording_s3_bucket_name"] == end["recording_s3_bucket_name"] == "vod-bucket"
    assert start["recording_session_id"] == end["recording_session_id"]
    assert end["recording_session_stream_ids"] == [stream.stream_id]
    assert all(e["resources"] == [arn] for e in events)


def test_events_reach_the_bus_with_the_ivs_envelope(aws_env):
    """Default sink: PutEvents on the bus (IVS uses the account's default bus);
    a rule for source aws.ivs sees IVS's envelope."""
    bus = "default"
    sqs = aws_env.client("sqs")
    events_client = aws_env.client("events")
    queue_url = sqs.create_queue(QueueName="ivs-events-probe")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events_client.put_rule(Name="ivs-probe", EventBusName=bus, State="ENABLED",
                           EventPattern=json.dumps({"source": ["aws.ivs"],
                                                    "detail-type": ["IVS Stream State Change"]}))
    events_client.put_targets(Rule="ivs-probe", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    with LocalIvs(bus, ingest=False, region=aws_env.region_name) as ivs:
        created = ivs.client().create_channel(name="room-5")
        key = created["streamKey"]["value"]
        stream = ivs.state.authorize_publish(key, "7")        # as on_publish does
        ivs.state.publish_done(key, "7")
        assert ivs.flush_events()

    bodies = []
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        bodies += [json.loads(m["Body"]) for m in got.get("Messages", [])]
        if len(bodies) >= 2:
            break
    assert [b["detail"]["event_name"] for b in bodies] == ["Session Created", "Session Ended"]
    first = bodies[0]
    assert first["source"] == "aws.ivs" and first["detail-type"] == "IVS Stream State Change"
    assert first["resources"] == [created["channel"]["arn"]]
    assert first["detail"] == {"event_name": "Session Created", "channel_name": "room-5",
                               "stream_id": stream.stream_id}


# ------------------------------------------------------------------ real push through nginx-rtmp

@pytest.fixture
def live_ivs():
    events: list[dict] = []
    with LocalIvs(None, rtmp_port=0, emit=events.append, reconnect_window_seconds=2) as ivs:
        yield ivs, ivs.client(), events


@needs_push
def test_push_play_private_channel_and_events(live_ivs):
    ivs, client, events = live_ivs
    private, public = p384_pair()
    client.import_playback_key_pair(publicKeyMaterial=public)
    created = client.create_channel(name="room-live", authorized=True,
                                    recordingConfigurationArn=ivs.recording_configuration_arn)
    channel, key = created["channel"], created["streamKey"]["value"]
    assert ivs.urls["rtmp"] == f"rtmp://{channel['ingestEndpoint']}/app/"

    # a wrong stream key: nginx drops the encoder, nothing happens
    bad = push(ivs.urls["rtmp"], "sk_not_a_key", seconds=2)
    assert bad.wait(timeout=20) != 0
    assert events == []

    # The encoder runs until the test stops it: everything below happens while it is live,
    # however long that takes on a loaded machine.
    pushed_at = time.time()
    encoder = push(ivs.urls["rtmp"], key, seconds=None)
    try:
        start = wait_for(lambda: named(events, "Stream Start"), 30, "Stream Start")[0]
        live_seen_at = time.time()                      # the stream began between pushed_at and now
        stream_id = start["detail"]["stream_id"]
        assert start["detail-type"] == "IVS Stream State Change" and start["source"] == "aws.ivs"
        assert start["resources"] == [channel["arn"]]
        assert start["detail"] == {"event_name": "Stream Start", "channel_name": "room-live", "stream_id": stream_id}
        assert named(events, "Session Created", stream_id)
        recording_start = named(events, "Recording Start", stream_id)[0]
        assert recording_start["detail-type"] == "IVS Recording State Change"
        assert recording_start["detail"]["recording_s3_key_prefix"].startswith(
            f"ivs/v1/123456789012/{channel['arn'].rsplit('/', 1)[1]}/")

        stream = client.get_stream(channelArn=channel["arn"])["stream"]
        assert stream["streamId"] == stream_id and stream["state"] == "LIVE"

        # a second encoder on the same channel is refused while the first is live
        second = push(ivs.urls["rtmp"], key, seconds=2)
        assert second.wait(timeout=20) != 0

        # private channel: no token, a token from another key, an expired one, another channel's: 403
        url = channel["playbackUrl"]
        other_private, _ = p384_pair()
        assert http_get(url)[0] == 403
        assert http_get(f"{url}?token={playback_token(other_private, channel['arn'])}")[0] == 403
        assert http_get(f"{url}?token={playback_token(private, channel['arn'], ttl=-60)}")[0] == 403
        other_arn = channel["arn"][:-4] + "AAAA"
        assert http_get(f"{url}?token={playback_token(private, other_arn)}")[0] == 403
        assert http_get(f"{url}?token=garbage")[0] == 403

        status, headers, body = http_get(f"{url}?token={playback_token(private, channel['arn'])}")
        assert status == 200, body
        assert headers["access-control-allow-origin"] == "*"
        assert body.startswith(b"#EXTM3U")
        media_url = media_urls(url, body.decode())
        assert key not in media_url and "token=" not in media_url
        status, headers, media = http_get(media_url)
        assert status == 200 and headers["access-control-allow-origin"] == "*"
        segments = [line for line in media.decode().splitlines() if line and not line.startswith("#")]
        assert segments and all(key not in s for s in segments)
        status, headers, data = http_get(media_url.rsplit("/", 1)[0] + "/" + segments[0])
        assert status == 200 and headers["content-type"] == "video/mp2t"
        assert len(data) > 1000 and data[0] == 0x47          # MPEG-TS sync byte
        assert client.get_stream(channelArn=channel["arn"])["stream"]["viewerCount"] == 1   # one media playlist read

        # a real HLS client follows multivariant -> media playlist -> segments
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height",
                                "-of", "compact", f"{url}?token={playback_token(private, channel['arn'])}"],
                               capture_output=True, text=True, timeout=20)
        assert "codec_name=h264|width=640|height=360" in probe.stdout, probe.stderr

        # with aws:viewer-id, IVS takes exp at most 10 minutes ahead
        viewer = {"aws:viewer-id": "viewer-1"}
        assert http_get(f"{url}?token={playback_token(private, channel['arn'], ttl=3600, **viewer)}")[0] == 403
        assert http_get(f"{url}?token={playback_token(private, channel['arn'], ttl=300, **viewer)}")[0] == 200

        # an origin restriction in the token is enforced for browsers
        restricted = playback_token(private, channel["arn"],
                                    **{"aws:access-control-allow-origin": "https://*.shop.example"})
        status, headers, _ = http_get(f"{url}?token={restricted}", {"Origin": "https://live.shop.example"})
        assert status == 200 and headers["access-control-allow-origin"] == "https://live.shop.example"
        assert http_get(f"{url}?token={restricted}", {"Origin": "https://evil.example"})[0] == 403

        # PutMetadata: 1 KB, 5 per second per channel
        with pytest.raises(client.exceptions.ValidationException):
            client.put_metadata(channelArn=channel["arn"], metadata="x" * 1025)
        client.put_metadata(channelArn=channel["arn"], metadata="x" * 1024)
        # A burst of 8 after a quiet second: a slow machine may spread the burst over more than a
        # second, so the checks rest on when each call was sent and answered, not on a fixed count.
        no_retry = ivs.client(config=Config(retries={"total_max_attempts": 1}))   # botocore retries throttling
        time.sleep(1.05)
        outcomes = metadata_burst(no_retry, channel["arn"], calls=8)
        accepted = [(sent, answered) for sent, answered, ok in outcomes if ok]
        assert len(accepted) >= 5                                  # the quota is 5 a second, all free
        for sent, _ in accepted:                                   # never 6 accepted inside one second
            assert sum(1 for s, a in accepted if s >= sent and a < sent + 1.0) <= 5
        if max(a for _, a, _ in outcomes) - min(s for s, _, _ in outcomes) < 1.0:
            assert len(accepted) == 5                              # the whole burst in one second: 3 refused
        stored = ivs.metadata(channel["arn"])
        assert stored[0]["metadata"] == "x" * 1024 and stored[-1]["streamId"] == stream_id

        with pytest.raises(client.exceptions.ConflictException):
            client.delete_channel(arn=channel["arn"])
        assert encoder.poll() is None                   # still live through all of the above
    finally:
        stopped_at = time.time()                        # the stream ends after this
        stop_encoder(encoder)

    end = wait_for(lambda: named(events, "Stream End"), 15, "Stream End")[0]
    end_seen_at = time.time()
    assert end["detail"] == {"event_name": "Stream End", "channel_name": "room-live", "stream_id": stream_id}
    with pytest.raises(client.exceptions.ChannelNotBroadcasting):
        client.get_stream(channelArn=channel["arn"])
    assert http_get(f"{url}?token={playback_token(private, channel['arn'])}")[0] == 404
    assert http_get(media_url)[0] == 404
    # recording ends once the reconnect window (2 s here) is over
    recording_end = wait_for(lambda: named(events, "Recording End"), 15, "Recording End")[0]["detail"]
    assert recording_end["recording_session_stream_ids"] == [stream_id]
    assert recording_end["recording_session_id"] == recording_start["detail"]["recording_session_id"]
    # the stream's time: at least from when it was seen live to when it was stopped, at most
    # from the push to when its end was seen (whole milliseconds, truncated)
    assert (stopped_at - live_seen_at) * 1000 - 1 <= recording_end["recording_duration_ms"] \
        <= (end_seen_at - pushed_at) * 1000
    assert len(named(events, "Session Created")) == 1      # the refused encoders made no session


@needs_push
def test_stop_stream_drops_the_encoder_and_a_reconnect_joins_the_recording():
    events: list[dict] = []
    # A reconnect window long enough for the second push to go live on a loaded machine.
    with LocalIvs(None, rtmp_port=0, emit=events.append, reconnect_window_seconds=15) as ivs:
        client = ivs.client()
        created = client.create_channel(name="room-stop", recordingConfigurationArn=ivs.recording_configuration_arn)
        channel, key = created["channel"], created["streamKey"]["value"]
        public_url = channel["playbackUrl"]

        encoder = push(ivs.urls["rtmp"], key, seconds=None)     # would run until stopped
        try:
            first = wait_for(lambda: named(events, "Stream Start"), 30, "Stream Start")[0]["detail"]["stream_id"]
            assert http_get(public_url)[0] == 200                  # public channel: no token needed
            client.stop_stream(channelArn=channel["arn"])
            encoder.wait(timeout=20)                              # nginx dropped it
        finally:
            if encoder.poll() is None:
                encoder.kill()
                encoder.wait()
        wait_for(lambda: named(events, "Stream End", first), 15, "Stream End")
        recording_start = named(events, "Recording Start")[0]["detail"]

        # the host reconnects within the window: a new stream, the same recording
        again = push(ivs.urls["rtmp"], key, seconds=None)
        try:
            second = wait_for(lambda: [e for e in named(events, "Stream Start") if e["detail"]["stream_id"] != first],
                              30, "second Stream Start")[0]["detail"]["stream_id"]
        finally:
            stop_encoder(again)
        wait_for(lambda: named(events, "Stream End", second), 15, "second Stream End")
        recording_end = wait_for(lambda: named(events, "Recording End"), 30, "Recording End")[0]["detail"]
    assert recording_end["recording_session_stream_ids"] == [first, second]
    assert recording_end["stream_id"] == second
    assert recording_end["recording_session_id"] == recording_start["recording_session_id"]
    assert len(named(events, "Recording Start")) == 1 and len(named(events, "Recording End")) == 1


@needs_push
def test_stop_kills_nginx_and_cleans_up():
    ivs = LocalIvs(None, rtmp_port=0, emit=lambda event: None)
    urls = ivs.start()
    process, workdir = ivs.ingest.process, ivs.workdir
    port = int(urls["rtmp"].rsplit(":", 1)[1].split("/")[0])
    ivs.stop()
    assert process.poll() is not None
    assert not workdir.exists()
    from local.ivs.ingest import port_in_use

    assert not port_in_use("127.0.0.1", port)

"""IVS channel adapter: moto for the channel API, botocore's Stubber for the rest.

moto 5.2.5 implements only the channel operations of IVS (Create/Get/
BatchGet/List/Update/DeleteChannel). Stream keys, StopStream and
ImportPlaybackKeyPair are tested with `botocore.stub.Stubber`, which checks
every request against the IVS service model shipped with botocore and
answers with the canned response. Where a moto test needs a stream key
(reusing an existing channel), `MotoStreamKeys` answers ListStreamKeys and
GetStreamKey from the key CreateChannel returned; botocore still validates
and serialises those requests first.

No test can reach AWS: the Stubber client points at a closed loopback port.
"""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REGION = "ap-northeast-1"
ROOM = "01JROOMEXAMPLE0000000000"
HOST = "01JHOSTEXAMPLE0000000000"
CHANNEL_ARN = "arn:aws:ivs:ap-northeast-1:123456789012:channel/xT6bLk3Gq9Zp"
KEY_ARN = "arn:aws:ivs:ap-northeast-1:123456789012:stream-key/g1H2i3J4k5L6"
NEW_KEY_ARN = "arn:aws:ivs:ap-northeast-1:123456789012:stream-key/m7N8o9P0q1R2"
RECORDING_ARN = "arn:aws:ivs:ap-northeast-1:123456789012:recording-configuration/Ab1Cd2Ef3Gh4"
EVENTS = Path(__file__).resolve().parents[3] / "events" / "ivs"


def _aws_env(monkeypatch) -> None:
    for name, value in {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_IVS", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def moto_ivs(monkeypatch):
    from moto import mock_aws

    from livecommerce.shared import aws

    _aws_env(monkeypatch)
    aws.reset_clients()
    with mock_aws():
        client = aws.client("ivs")
        yield client
    aws.reset_clients()


class MotoStreamKeys:
    """Stream keys for moto channels: remembers the key CreateChannel returned
    and answers ListStreamKeys / GetStreamKey for it (moto has neither)."""

    def __init__(self, client) -> None:
        self.keys: dict[str, dict] = {}
        events = client.meta.events
        events.register("after-call.ivs.CreateChannel", self._created)
        events.register("after-call.ivs.DeleteChannel", self._deleted)
        events.register("before-call.ivs.ListStreamKeys", self._list)
        events.register("before-call.ivs.GetStreamKey", self._get)

    @staticmethod
    def _reply(body: dict):
        from botocore.awsrequest import AWSResponse

        return AWSResponse(None, 200, {}, None), body

    @staticmethod
    def _body(params) -> dict:
        return json.loads(params["body"] or b"{}")

    def remember(self, created: dict) -> None:
        self.keys[created["channel"]["arn"]] = created["streamKey"]

    def _created(self, parsed, **_):
        if "channel" in parsed:
            self.remember(parsed)

    def _deleted(self, **kwargs):
        pass  # the key stays listed until the channel is gone; moto forgets the channel itself

    def _list(self, params, **_):
        arn = self._body(params)["channelArn"]
        key = self.keys.get(arn)
        summaries = [{"arn": key["arn"], "channelArn": arn, "tags": {}}] if key else []
        return self._reply({"streamKeys": summaries})

    def _get(self, params, **_):
        wanted = self._body(params)["arn"]
        for key in self.keys.values():
            if key["arn"] == wanted:
                return self._reply({"streamKey": key})
        raise AssertionError(f"unknown stream key {wanted}")


@pytest.fixture
def moto_keys(moto_ivs) -> MotoStreamKeys:
    return MotoStreamKeys(moto_ivs)


@pytest.fixture
def stub(monkeypatch):
    """A Stubber on the shared ivs client; the endpoint is a closed port, so
    an unstubbed call can never reach AWS."""
    from botocore.stub import Stubber

    from livecommerce.media import channels
    from livecommerce.shared import aws

    _aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_IVS", "http://127.0.0.1:9")
    monkeypatch.setattr(channels, "_sleep", lambda seconds: None)
    aws.reset_clients()
    client = aws.client("ivs")
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
    aws.reset_clients()


def _channel_body(arn: str = CHANNEL_ARN, name: str = f"lc-dev-{ROOM}", **extra) -> dict:
    body = {
        "arn": arn, "name": name, "latencyMode": "LOW", "type": "STANDARD", "authorized": True,
        "insecureIngest": False, "recordingConfigurationArn": "", "preset": "",
        "ingestEndpoint": "a1b2c3d4e5f6.global-contribute.live-video.net",
        "playbackUrl": "https://a1b2c3d4e5f6.ap-northeast-1.playback.live-video.net/api/video/v1/"
                       "ap-northeast-1.123456789012.channel.xT6bLk3Gq9Zp.m3u8",
        "tags": {"room_id": ROOM, "host_id": HOST, "stage": "dev"},
    }
    body.update(extra)
    return body


def _key_body(arn: str = KEY_ARN, value: str = "sk_ap-northeast-1_oldOLDold", channel_arn: str = CHANNEL_ARN):
    return {"arn": arn, "value": value, "channelArn": channel_arn, "tags": {}}


def _capture_params(client, operation: str) -> list[dict]:
    seen: list[dict] = []
    client.meta.events.register(f"provide-client-params.ivs.{operation}",
                                lambda params, **_: seen.append(json.loads(json.dumps(params))))
    return seen


# --- moto: channels ---------------------------------------------------------

def test_create_room_channel_sends_the_room_channel_shape(moto_ivs, moto_keys):
    from livecommerce.media import channels

    sent = _capture_params(moto_ivs, "CreateChannel")
    result = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=RECORDING_ARN,
                                          stage="dev")

    assert sent == [{
        "name": f"lc-dev-{ROOM}",
        "type": "STANDARD",
        "latencyMode": "LOW",
        "authorized": True,
        "insecureIngest": False,
        "recordingConfigurationArn": RECORDING_ARN,
        "tags": {"room_id": ROOM, "host_id": HOST, "stage": "dev"},
    }]
    assert result.reused is False
    channel = result.channel
    assert channel.name == f"lc-dev-{ROOM}"
    assert (channel.type, channel.latency_mode, channel.authorized) == ("STANDARD", "LOW", True)
    assert channel.recording_configuration_arn == RECORDING_ARN
    assert channel.room_id == ROOM and channel.tags["host_id"] == HOST
    assert re.fullmatch(r"arn:aws:ivs:ap-northeast-1:\d{12}:channel/[A-Za-z0-9]+", channel.arn)
    assert channel.playback_url.endswith(".m3u8")
    key = result.stream_key
    assert key.channel_arn == channel.arn and key.value.startswith("sk_ap-northeast-1_")
    assert key.value not in repr(key) and key.value not in repr(result)

    stored = moto_ivs.get_channel(arn=channel.arn)["channel"]
    assert stored["insecureIngest"] is False and stored["authorized"] is True
    assert channels.get_channel(channel.arn) == channel


def test_recording_is_left_out_when_the_stage_does_not_record(moto_ivs, moto_keys):
    from livecommerce.media import channels

    sent = _capture_params(moto_ivs, "CreateChannel")
    result = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")
    assert "recordingConfigurationArn" not in sent[0]
    assert result.channel.recording_configuration_arn == ""


def test_retried_create_reuses_the_rooms_channel(moto_ivs, moto_keys):
    from livecommerce.media import channels

    first = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")
    created = _capture_params(moto_ivs, "CreateChannel")
    again = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")

    assert created == []  # no second CreateChannel
    assert again.reused is True
    assert again.channel == first.channel
    assert again.stream_key == first.stream_key
    assert len(moto_ivs.list_channels()["channels"]) == 1
    assert channels.find_room_channel(ROOM, stage="dev") == first.channel
    assert channels.find_room_channel(ROOM, stage="prod") is None


def test_rooms_and_stages_get_their_own_channels(moto_ivs, moto_keys):
    from livecommerce.media import channels

    a = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")
    b = channels.create_room_channel("01JROOMOTHER00000000000000", host_id=HOST,
                                     recording_configuration_arn=None, stage="dev")
    c = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="prod")
    assert len({a.channel.arn, b.channel.arn, c.channel.arn}) == 3
    assert not (a.reused or b.reused or c.reused)


def test_a_same_named_channel_of_another_room_is_not_adopted(moto_ivs, moto_keys):
    from livecommerce.media import channels

    moto_ivs.create_channel(name=f"lc-dev-{ROOM}", tags={"room_id": "someone-else"})
    result = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")
    assert result.reused is False and result.channel.room_id == ROOM


def _race(moto_ivs, moto_keys, *, rival_wins: bool) -> dict:
    """During our CreateChannel a concurrent create for the same room lands;
    the rival's ARN is drawn until it sorts before (or after) ours."""
    import boto3

    rival: dict = {}
    other = boto3.session.Session().client("ivs")

    def land_rival(parsed, **_):
        if rival:
            return
        ours = parsed["channel"]["arn"]
        while True:
            made = other.create_channel(name=f"lc-dev-{ROOM}", type="STANDARD", latencyMode="LOW",
                                        authorized=True, tags={"room_id": ROOM, "host_id": HOST, "stage": "dev"})
            if (made["channel"]["arn"] < ours) == rival_wins:
                break
            other.delete_channel(arn=made["channel"]["arn"])
        moto_keys.remember(made)
        rival.update(made)

    moto_ivs.meta.events.register("after-call.ivs.CreateChannel", land_rival)
    return rival


def test_racing_creates_converge_on_one_channel_when_we_lose(moto_ivs, moto_keys):
    from livecommerce.media import channels

    rival = _race(moto_ivs, moto_keys, rival_wins=True)
    result = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")

    assert result.reused is True
    assert result.channel.arn == rival["channel"]["arn"]
    assert result.stream_key.value == rival["streamKey"]["value"]
    assert [c["arn"] for c in moto_ivs.list_channels()["channels"]] == [rival["channel"]["arn"]]


def test_racing_creates_keep_ours_when_we_win(moto_ivs, moto_keys):
    from livecommerce.media import channels

    rival = _race(moto_ivs, moto_keys, rival_wins=False)
    result = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")

    assert result.reused is False and result.channel.arn < rival["channel"]["arn"]
    # The rival's own caller sees ours first and deletes its channel.
    assert len(moto_ivs.list_channels()["channels"]) == 2


def test_get_and_delete_channel(moto_ivs, moto_keys):
    from livecommerce.media import channels, errors

    made = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")
    arn = made.channel.arn
    assert channels.get_channel(arn).arn == arn
    assert channels.delete_channel(arn) is True
    with pytest.raises(errors.ChannelNotFound) as info:
        channels.get_channel(arn)
    assert info.value.status == 404 and info.value.code == "channel_not_found"
    assert channels.delete_channel(arn) is False  # idempotent
    assert moto_ivs.list_channels()["channels"] == []


def test_a_malformed_arn_never_reaches_ivs(stub):
    from livecommerce.media import channels, errors

    for bad in ("", "channel/abc", "arn:aws:s3:::bucket", CHANNEL_ARN + "/x"):
        with pytest.raises(errors.ChannelNotFound):
            channels.get_channel(bad)
        with pytest.raises(errors.ChannelNotFound):
            channels.stop_stream(bad)


# --- Stubber: create path, exact params ---------------------------------------

def test_create_with_stubber_matches_the_ivs_model(stub):
    from livecommerce.media import channels

    name = f"lc-dev-{ROOM}"
    stub.add_response("list_channels", {"channels": []}, {"filterByName": name})
    stub.add_response("create_channel", {"channel": _channel_body(recordingConfigurationArn=RECORDING_ARN),
                                         "streamKey": _key_body()}, {
        "name": name, "type": "STANDARD", "latencyMode": "LOW", "authorized": True, "insecureIngest": False,
        "recordingConfigurationArn": RECORDING_ARN, "tags": {"room_id": ROOM, "host_id": HOST, "stage": "dev"},
    })
    stub.add_response("list_channels", {"channels": [
        {"arn": CHANNEL_ARN, "name": name, "latencyMode": "LOW", "authorized": True, "type": "STANDARD",
         "tags": {"room_id": ROOM, "host_id": HOST, "stage": "dev"}}]}, {"filterByName": name})

    result = channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=RECORDING_ARN,
                                          stage="dev")
    assert result.channel.arn == CHANNEL_ARN and result.stream_key.arn == KEY_ARN
    assert channels.ingest_url(result.channel) == "rtmps://a1b2c3d4e5f6.global-contribute.live-video.net:443/app/"
    assert channels.ingest_server(result.channel) == "a1b2c3d4e5f6.global-contribute.live-video.net"
    assert channels.publish_url(result.channel, result.stream_key).endswith("/app/sk_ap-northeast-1_oldOLDold")


def test_list_channels_is_paged_when_looking_for_the_room(stub):
    from livecommerce.media import channels

    name = f"lc-dev-{ROOM}"
    summary = {"arn": CHANNEL_ARN, "name": name, "tags": {"room_id": ROOM}}
    stub.add_response("list_channels", {"channels": [], "nextToken": "page2"}, {"filterByName": name})
    stub.add_response("list_channels", {"channels": [summary]}, {"filterByName": name, "nextToken": "page2"})
    stub.add_response("get_channel", {"channel": _channel_body()}, {"arn": CHANNEL_ARN})
    assert channels.find_room_channel(ROOM, stage="dev").arn == CHANNEL_ARN


@pytest.mark.parametrize("bad", ["", "room with spaces", "room/1", "x" * 130])
def test_channel_names_follow_the_ivs_pattern(bad):
    from livecommerce.media import channels

    with pytest.raises(ValueError):
        channels.channel_name("dev", bad)


# --- Stubber: stream keys ------------------------------------------------------

def test_get_stream_key_lists_then_reads(stub):
    from livecommerce.media import channels

    stub.add_response("list_stream_keys", {"streamKeys": [{"arn": KEY_ARN, "channelArn": CHANNEL_ARN}]},
                      {"channelArn": CHANNEL_ARN})
    stub.add_response("get_stream_key", {"streamKey": _key_body()}, {"arn": KEY_ARN})
    key = channels.get_stream_key(CHANNEL_ARN)
    assert key == channels.StreamKey(arn=KEY_ARN, value="sk_ap-northeast-1_oldOLDold", channel_arn=CHANNEL_ARN)
    assert "oldOLDold" not in repr(key)


def test_a_keyless_channel_gets_a_key_on_read(stub):
    from livecommerce.media import channels

    stub.add_response("list_stream_keys", {"streamKeys": []}, {"channelArn": CHANNEL_ARN})
    stub.add_response("create_stream_key", {"streamKey": _key_body(NEW_KEY_ARN, "sk_new")},
                      {"channelArn": CHANNEL_ARN})
    assert channels.get_stream_key(CHANNEL_ARN).arn == NEW_KEY_ARN


def test_a_keyless_channel_is_a_404_when_asked_not_to_create(stub):
    from livecommerce.media import channels, errors

    stub.add_response("list_stream_keys", {"streamKeys": []}, {"channelArn": CHANNEL_ARN})
    with pytest.raises(errors.StreamKeyNotFound) as info:
        channels.get_stream_key(CHANNEL_ARN, create_if_missing=False)
    assert (info.value.status, info.value.code) == (404, "stream_key_not_found")


def test_rotate_deletes_the_old_key_then_creates_one(stub):
    from livecommerce.media import channels

    stub.add_response("list_stream_keys", {"streamKeys": [{"arn": KEY_ARN, "channelArn": CHANNEL_ARN}]},
                      {"channelArn": CHANNEL_ARN})
    stub.add_response("delete_stream_key", {}, {"arn": KEY_ARN})
    stub.add_response("create_stream_key", {"streamKey": _key_body(NEW_KEY_ARN, "sk_new")},
                      {"channelArn": CHANNEL_ARN})
    key = channels.rotate_stream_key(CHANNEL_ARN)
    assert (key.arn, key.value) == (NEW_KEY_ARN, "sk_new")


def test_rotate_retries_create_after_the_delete(stub, monkeypatch):
    from livecommerce.media import channels

    slept: list[float] = []
    monkeypatch.setattr(channels, "_sleep", slept.append)
    stub.add_response("list_stream_keys", {"streamKeys": [{"arn": KEY_ARN, "channelArn": CHANNEL_ARN}]},
                      {"channelArn": CHANNEL_ARN})
    stub.add_response("delete_stream_key", {}, {"arn": KEY_ARN})
    stub.add_client_error("create_stream_key", "ThrottlingException", "Rate exceeded", 429,
                          expected_params={"channelArn": CHANNEL_ARN})
    stub.add_client_error("create_stream_key", "InternalServerException", "oops", 500,
                          expected_params={"channelArn": CHANNEL_ARN})
    stub.add_response("create_stream_key", {"streamKey": _key_body(NEW_KEY_ARN, "sk_new")},
                      {"channelArn": CHANNEL_ARN})
    key = channels.rotate_stream_key(CHANNEL_ARN, retry_delays=(0.25, 0.75))
    assert key.arn == NEW_KEY_ARN
    assert slept == [0.25, 0.75]


def test_rotate_that_cannot_issue_a_key_says_so_and_a_read_heals_it(stub):
    from livecommerce.media import channels, errors

    stub.add_response("list_stream_keys", {"streamKeys": [{"arn": KEY_ARN, "channelArn": CHANNEL_ARN}]},
                      {"channelArn": CHANNEL_ARN})
    stub.add_response("delete_stream_key", {}, {"arn": KEY_ARN})
    for _ in range(3):
        stub.add_client_error("create_stream_key", "ThrottlingException", "Rate exceeded", 429)
    with pytest.raises(errors.StreamKeyRotationFailed) as info:
        channels.rotate_stream_key(CHANNEL_ARN, retry_delays=(0, 0))
    problem = info.value
    assert (problem.status, problem.code) == (503, "stream_key_rotation_incomplete")
    assert problem.extra["retryable"] is True and problem.headers["Retry-After"]
    assert "revoked" in problem.detail

    stub.add_response("list_stream_keys", {"streamKeys": []}, {"channelArn": CHANNEL_ARN})
    stub.add_response("create_stream_key", {"streamKey": _key_body(NEW_KEY_ARN, "sk_new")},
                      {"channelArn": CHANNEL_ARN})
    assert channels.get_stream_key(CHANNEL_ARN).arn == NEW_KEY_ARN


def test_rotate_adopts_a_key_issued_by_a_concurrent_rotation(stub):
    from livecommerce.media import channels

    stub.add_response("list_stream_keys", {"streamKeys": [{"arn": KEY_ARN, "channelArn": CHANNEL_ARN}]},
                      {"channelArn": CHANNEL_ARN})
    stub.add_response("delete_stream_key", {}, {"arn": KEY_ARN})
    stub.add_client_error("create_stream_key", "ServiceQuotaExceededException",
                          "Stream key quota exceeded", 402)
    stub.add_response("list_stream_keys", {"streamKeys": [{"arn": NEW_KEY_ARN, "channelArn": CHANNEL_ARN}]},
                      {"channelArn": CHANNEL_ARN})
    stub.add_response("get_stream_key", {"streamKey": _key_body(NEW_KEY_ARN, "sk_theirs")}, {"arn": NEW_KEY_ARN})
    assert channels.rotate_stream_key(CHANNEL_ARN, retry_delays=(0,)).value == "sk_theirs"


def test_rotate_does_not_retry_what_retrying_cannot_fix(stub):
    from livecommerce.media import channels, errors

    stub.add_response("list_stream_keys", {"streamKeys": [{"arn": KEY_ARN, "channelArn": CHANNEL_ARN}]},
                      {"channelArn": CHANNEL_ARN})
    stub.add_response("delete_stream_key", {}, {"arn": KEY_ARN})
    stub.add_client_error("create_stream_key", "AccessDeniedException", "not allowed", 403)
    with pytest.raises(errors.MediaMisconfigured) as info:
        channels.rotate_stream_key(CHANNEL_ARN, retry_delays=(0, 0))
    assert info.value.status == 502


def test_rotate_tolerates_a_key_deleted_meanwhile(stub):
    from livecommerce.media import channels

    stub.add_response("list_stream_keys", {"streamKeys": [{"arn": KEY_ARN, "channelArn": CHANNEL_ARN}]},
                      {"channelArn": CHANNEL_ARN})
    stub.add_client_error("delete_stream_key", "ResourceNotFoundException", "gone", 404,
                          expected_params={"arn": KEY_ARN})
    stub.add_response("create_stream_key", {"streamKey": _key_body(NEW_KEY_ARN, "sk_new")},
                      {"channelArn": CHANNEL_ARN})
    assert channels.rotate_stream_key(CHANNEL_ARN).arn == NEW_KEY_ARN


# --- Stubber: stop, delete, import ---------------------------------------------

def test_stop_stream(stub):
    from livecommerce.media import channels, errors

    stub.add_response("stop_stream", {}, {"channelArn": CHANNEL_ARN})
    assert channels.stop_stream(CHANNEL_ARN) is True

    stub.add_client_error("stop_stream", "ChannelNotBroadcasting", "not live", 404,
                          expected_params={"channelArn": CHANNEL_ARN})
    assert channels.stop_stream(CHANNEL_ARN) is False

    stub.add_client_error("stop_stream", "ResourceNotFoundException", "no channel", 404)
    with pytest.raises(errors.ChannelNotFound):
        channels.stop_stream(CHANNEL_ARN)

    stub.add_client_error("stop_stream", "StreamUnavailable", "try later", 503)
    with pytest.raises(errors.MediaUnavailable) as info:
        channels.stop_stream(CHANNEL_ARN)
    assert info.value.extra["retryable"] is True


def test_deleting_a_live_channel_is_a_retryable_conflict(stub):
    from livecommerce.media import channels, errors

    stub.add_client_error("delete_channel", "ConflictException", "channel is live", 409,
                          expected_params={"arn": CHANNEL_ARN})
    with pytest.raises(errors.ChannelBusy) as info:
        channels.delete_channel(CHANNEL_ARN)
    assert (info.value.status, info.value.code, info.value.extra["retryable"]) == (409, "channel_busy", True)


def test_import_playback_key_pair(stub):
    from livecommerce.media import channels, playback

    _, public_pem = playback.generate_key_pair()
    arn = "arn:aws:ivs:ap-northeast-1:123456789012:playback-key/Kp1Kp2Kp3Kp4"
    stub.add_response("import_playback_key_pair",
                      {"keyPair": {"arn": arn, "name": "lc-dev-playback", "fingerprint": "ab:cd"}},
                      {"publicKeyMaterial": public_pem, "name": "lc-dev-playback", "tags": {"stage": "dev"}})
    assert channels.import_playback_key_pair(public_pem, name="lc-dev-playback", tags={"stage": "dev"}) == arn


# --- error mapping -------------------------------------------------------------

@pytest.mark.parametrize(("ivs_code", "http", "status", "code", "retryable"), [
    ("ThrottlingException", 429, 503, "media_unavailable", True),
    ("InternalServerException", 500, 503, "media_unavailable", True),
    ("ServiceQuotaExceededException", 402, 503, "media_quota_exceeded", False),
    ("PendingVerification", 403, 503, "media_account_pending", False),
    ("AccessDeniedException", 403, 502, "media_misconfigured", False),
    ("ValidationException", 400, 502, "media_request_rejected", False),
    ("ResourceNotFoundException", 404, 502, "recording_configuration_not_found", False),
    ("SomethingNew", 400, 502, "media_error", False),
])
def test_create_errors_map_to_problems(stub, ivs_code, http, status, code, retryable):
    from livecommerce.media import channels
    from livecommerce.shared import problems

    stub.add_response("list_channels", {"channels": []})
    stub.add_client_error("create_channel", ivs_code, "message with arn:aws:ivs:secret", http)
    with pytest.raises(problems.Problem) as info:
        channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")
    problem = info.value
    assert (problem.status, problem.code, problem.extra["retryable"]) == (status, code, retryable)
    body = problem.to_dict()
    assert body["code"] == code and body["upstream_code"] == ivs_code
    assert "arn:aws:ivs:secret" not in json.dumps(body)
    assert ("Retry-After" in problem.headers) == retryable
    assert isinstance(problem.__cause__, Exception)  # the botocore error stays chained for the logs


def test_throttled_lookup_is_a_retryable_503(stub):
    from livecommerce.media import channels, errors

    stub.add_client_error("list_channels", "ThrottlingException", "Rate exceeded", 429)
    with pytest.raises(errors.MediaUnavailable) as info:
        channels.create_room_channel(ROOM, host_id=HOST, recording_configuration_arn=None, stage="dev")
    assert info.value.status == 503 and info.value.headers == {"Retry-After": "2"}


def test_unreachable_endpoint_is_a_retryable_503(monkeypatch):
    from livecommerce.media import channels, errors
    from livecommerce.shared import aws

    _aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_IVS", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    aws.reset_clients()
    try:
        with pytest.raises(errors.MediaUnavailable) as info:
            channels.get_channel(CHANNEL_ARN)
        assert info.value.extra["upstream_code"] == "connection_failed"
    finally:
        aws.reset_clients()


def test_the_client_honours_the_endpoint_override(monkeypatch):
    from livecommerce.shared import aws

    _aws_env(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_IVS", "http://127.0.0.1:4599")
    aws.reset_clients()
    try:
        assert aws.client("ivs").meta.endpoint_url == "http://127.0.0.1:4599"
    finally:
        aws.reset_clients()
    monkeypatch.delenv("AWS_ENDPOINT_URL_IVS")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    try:
        assert aws.client("ivs").meta.endpoint_url == "http://127.0.0.1:4566"
    finally:
        aws.reset_clients()


# --- ingest URLs ---------------------------------------------------------------

@pytest.mark.parametrize(("endpoint", "url", "server"), [
    ("a1b2c3d4e5f6.global-contribute.live-video.net",
     "rtmps://a1b2c3d4e5f6.global-contribute.live-video.net:443/app/",
     "a1b2c3d4e5f6.global-contribute.live-video.net"),
    ("127.0.0.1:1935", "rtmp://127.0.0.1:1935/app/", "127.0.0.1:1935"),
    ("ingest.example.test:443", "rtmps://ingest.example.test:443/app/", "ingest.example.test:443"),
    ("rtmp://127.0.0.1:1935", "rtmp://127.0.0.1:1935/app/", "127.0.0.1:1935"),
])
def test_ingest_urls(endpoint, url, server):
    from livecommerce.media import channels

    channel = channels.Channel(arn=CHANNEL_ARN, name="n", ingest_endpoint=endpoint, playback_url="",
                               latency_mode="LOW", type="STANDARD", authorized=True)
    assert channels.ingest_url(channel) == url
    assert channels.ingest_server(channel) == server


# --- playback key from Secrets Manager -----------------------------------------

@pytest.fixture
def playback_secret(monkeypatch):
    from moto import mock_aws

    from livecommerce.media import playback
    from livecommerce.shared import aws

    _aws_env(monkeypatch)
    monkeypatch.setenv("PLAYBACK_KEY_SECRET_ID", "livecommerce-test/playback-key")
    aws.reset_clients()
    playback.clear_key_cache()
    with mock_aws():
        private_pem, public_pem = playback.generate_key_pair()
        sm = aws.client("secretsmanager")
        sm.create_secret(Name="livecommerce-test/playback-key", SecretString=json.dumps(
            {"private_key_pem": private_pem, "public_key_pem": public_pem, "key_pair_arn": None}))
        yield sm, private_pem, public_pem
    playback.clear_key_cache()
    aws.reset_clients()


def test_playback_key_is_read_once_and_refreshed(playback_secret, monkeypatch):
    from livecommerce.media import playback

    sm, private_pem, public_pem = playback_secret
    pair = playback.load_playback_key_pair()
    assert playback.load_playback_private_key() == private_pem and pair.public_key_pem == public_pem
    assert pair.key_pair_arn is None and private_pem not in repr(pair)

    new_private, new_public = playback.generate_key_pair()
    sm.put_secret_value(SecretId="livecommerce-test/playback-key", SecretString=json.dumps(
        {"private_key_pem": new_private, "public_key_pem": new_public,
         "key_pair_arn": "arn:aws:ivs:ap-northeast-1:123456789012:playback-key/New1New2New3"}))
    assert playback.load_playback_private_key() == private_pem  # cached
    monkeypatch.setattr(playback._cache, "seconds", 0)
    assert playback.load_playback_private_key() == new_private
    assert playback.load_playback_key_pair().key_pair_arn.endswith("New1New2New3")


def test_a_wrong_kind_of_playback_key_fails_loudly(playback_secret):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from livecommerce.media import playback

    sm = playback_secret[0]
    p256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    sm.put_secret_value(SecretId="livecommerce-test/playback-key",
                        SecretString=json.dumps({"private_key_pem": p256}))
    with pytest.raises(ValueError, match="P-384"):
        playback.load_playback_private_key()
    sm.put_secret_value(SecretId="livecommerce-test/playback-key", SecretString="not json")
    with pytest.raises(RuntimeError, match="private_key_pem"):
        playback.load_playback_private_key()


def test_grant_playback_uses_the_secret_and_the_playback_domain(playback_secret, monkeypatch):
    from urllib.parse import parse_qs, urlsplit

    from livecommerce.media import playback

    _, _, public_pem = playback_secret
    monkeypatch.setenv("PLAYBACK_DOMAIN", "live.example.cn")
    monkeypatch.setenv("PLAYBACK_ALLOW_ORIGIN", "https://servicewechat.com")
    ivs_url = _channel_body()["playbackUrl"]
    grant = playback.grant_playback(CHANNEL_ARN, ivs_url, "01JVIEWEREXAMPLE0000000000", now=1_800_000_000)
    parts = urlsplit(grant.url)
    assert parts.netloc == "live.example.cn" and parts.path == urlsplit(ivs_url).path
    assert parse_qs(parts.query)["token"] == [grant.token]
    claims = playback.verify_playback_token(grant.token, public_pem, channel_arn=CHANNEL_ARN, now=1_800_000_000)
    assert claims["aws:access-control-allow-origin"] == "https://servicewechat.com"
    assert claims["aws:viewer-id"] == "01JVIEWEREXAMPLE0000000000"
    assert grant.expires_at == 1_800_000_600


# --- sample events ---------------------------------------------------------------

def _model_pattern(shape: str) -> str:
    import botocore

    path = Path(botocore.__file__).parent / "data" / "ivs" / "2020-07-14" / "service-2.json.gz"
    with gzip.open(path) as fh:
        return json.load(fh)["shapes"][shape]["pattern"]


@pytest.mark.parametrize(("name", "detail_type", "state_field", "state"), [
    ("stream-start", "IVS Stream State Change", "event_name", "Stream Start"),
    ("stream-end", "IVS Stream State Change", "event_name", "Stream End"),
    ("stream-failure", "IVS Stream State Change", "event_name", "Stream Failure"),
    ("recording-start", "IVS Recording State Change", "recording_status", "Recording Start"),
    ("recording-end", "IVS Recording State Change", "recording_status", "Recording End"),
])
def test_sample_ivs_events_have_the_aws_shape(name, detail_type, state_field, state):
    from livecommerce.media import channels

    event = json.loads((EVENTS / f"{name}.json").read_text())
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources",
                          "detail"}
    assert (event["source"], event["detail-type"], event["version"]) == ("aws.ivs", detail_type, "0")
    assert event["region"] == REGION and re.fullmatch(r"\d{12}", event["account"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    [arn] = event["resources"]
    assert re.fullmatch(_model_pattern("ChannelArn"), arn)
    assert arn.split(":")[4] == event["account"] and arn.split(":")[3] == event["region"]
    detail = event["detail"]
    assert detail[state_field] == state
    assert detail["channel_name"] == channels.channel_name("dev", ROOM)
    assert re.fullmatch(r"st-[A-Za-z0-9]{23}", detail["stream_id"])
    if name == "stream-failure":
        assert detail["reason"]
    if detail_type == "IVS Recording State Change":
        assert {"recording_status_reason", "recording_s3_bucket_name", "recording_s3_key_prefix",
                "recording_duration_ms", "recording_session_id"} <= set(detail)
        channel_id = arn.rsplit("/", 1)[1]
        assert detail["recording_s3_key_prefix"].startswith(f"ivs/v1/{event['account']}/{channel_id}/")
        assert isinstance(detail["recording_duration_ms"], int)
        assert (detail["recording_duration_ms"] > 0) == (state == "Recording End")

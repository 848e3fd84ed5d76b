"""The replay pipeline on moto: a recording in S3 laid out as IVS writes it, IVS Recording End (or
the recording-ended.json Object Created event) -> the replay_tasks starter -> moto executes
statemachines/replay.asl.json with its Lambda tasks on the real handler -> the replay, its
product timeline and per-product clips; the routes on top. Duplicate and out-of-order triggers,
a missing recording-ended.json, an unknown room and a clip outside the recording end in
recorded outcomes."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import m3u8
import pytest

from tests.polling import poll

PLAYLIST = (Path(__file__).resolve().parents[2] / "unit" / "media" / "data" / "recorded_playlist.m3u8").read_text()
BUCKET = "livecommerce-local-recordings"
T0 = datetime(2026, 3, 14, 11, 0, 0, tzinfo=timezone.utc)
BASE = "https://replay.example.com/"
_TOKENISED = re.compile(r"^https://replay\.example\.com/t/([A-Za-z0-9_.-]+)/(ivs/v1/.+)$")


def _tokens_and_keys(reply) -> tuple[set[str], object]:
    """Every replay URL in a reply is BASE/t/<token>/<key>: the tokens seen, and the reply with bare URLs."""
    seen: set[str] = set()

    def bare(value):
        if isinstance(value, dict):
            return {k: bare(v) for k, v in value.items() if k != "playlist_expires_at"}
        if isinstance(value, list):
            return [bare(v) for v in value]
        if isinstance(value, str) and value.startswith(BASE):
            match = _TOKENISED.match(value)
            assert match, value
            seen.add(match.group(1))
            return BASE + match.group(2)
        return value
    return seen, bare(reply)


def _claims(token: str, key: str) -> dict:
    from livecommerce.media import playback

    return playback.verify_replay_token(token, playback.load_playback_key_pair().public_key_pem, key=key)


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


@pytest.fixture
def replay_env(seeded, monkeypatch):
    from local import stepfunctions

    stepfunctions.enable_execution()
    stepfunctions.route_lambda_tasks()
    arns = stepfunctions.create_state_machines(seeded, prefix="livecommerce-local")
    monkeypatch.setenv("REPLAY_STATE_MACHINE_ARN", arns["replay"])
    monkeypatch.setenv("RECORDINGS_BUCKET", BUCKET)
    monkeypatch.setenv("REPLAY_BASE_URL", "https://replay.example.com")
    return seeded


def _record(session, prefix: str, *, ended: bool = True) -> None:
    """What IVS writes under a recording's prefix (one 240p rendition, 9 s, 5 segments)."""
    s3 = session.client("s3")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/media/hls/240p30/playlist.m3u8", Body=PLAYLIST.encode())
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/media/hls/master.m3u8", Body=(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x240\n240p30/playlist.m3u8\n").encode())
    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/media/hls/240p30/{i}.ts", Body=b"\x47" * 188)
    for i in range(2):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/media/thumbnails/240p30/thumb{i}.jpg", Body=b"jpg")
    if ended:
        _ended(session, prefix)


def _ended(session, prefix: str) -> None:
    session.client("s3").put_object(Bucket=BUCKET, Key=f"{prefix}/events/recording-ended.json", Body=json.dumps({
        "version": "v1", "channel_arn": "arn:aws:ivs:us-east-1:123456789012:channel/abcd1234",
        "recording_started_at": _iso(T0), "recording_ended_at": _iso(T0 + timedelta(seconds=9)),
        "recording_status": "RECORDING_ENDED",
        "media": {"hls": {"duration_ms": 9000, "path": "media/hls", "playlist": "master.m3u8",
                          "renditions": [{"path": "240p30", "playlist": "playlist.m3u8",
                                          "resolution_width": 320, "resolution_height": 240}]},
                  "thumbnails": {"path": "media/thumbnails",
                                 "renditions": [{"path": "240p30", "resolution_width": 320,
                                                 "resolution_height": 240}]}}}).encode())


def _recording_end(room_id: str, prefix: str) -> dict:
    return {"detail-type": "IVS Recording State Change", "source": "aws.ivs", "time": _iso(T0 + timedelta(seconds=10)),
            "resources": ["arn:aws:ivs:us-east-1:123456789012:channel/abcd1234"],
            "detail": {"channel_name": f"lc-local-{room_id}", "recording_status": "Recording End",
                       "recording_s3_bucket_name": BUCKET, "recording_s3_key_prefix": prefix,
                       "recording_duration_ms": 9000, "stream_id": "st-1"}}


def _object_created(prefix: str) -> dict:
    return {"detail-type": "Object Created", "source": "aws.s3", "time": _iso(T0 + timedelta(seconds=11)),
            "detail": {"bucket": {"name": BUCKET}, "object": {"key": f"{prefix}/events/recording-ended.json"}}}


def _mark(detail_type: str, at: datetime, **detail) -> dict:
    return {"detail-type": detail_type, "source": "livecommerce", "time": _iso(at),
            "detail": {**detail, "occurred_at": _iso(at)}}


def _run(session, execution_name: str) -> tuple[dict, list[dict]]:
    sfn = session.client("stepfunctions")
    import os

    arn = os.environ["REPLAY_STATE_MACHINE_ARN"].replace(":stateMachine:", ":execution:") + ":" + execution_name
    assert poll(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout=60)
    return sfn.describe_execution(executionArn=arn), sfn.get_execution_history(executionArn=arn)["events"]


def _states(events: list[dict]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def _room(api, tokens_for) -> str:
    room = api.call("POST", "/v1/rooms", token=tokens_for("host-1"), json_body={
        "title": "回放专场", "scheduled_start": _iso(datetime.now(timezone.utc) + timedelta(hours=1)),
        "cover": "https://img.example.com/c.jpg"})
    assert room.status == 201, room.body
    return room.json()["id"]


def test_recording_end_publishes_the_replay_timeline_and_clips_once(replay_env, api, tokens_for):
    from livecommerce.media import replay_rules
    from local.lambda_runtime import invoke

    room_id = _room(api, tokens_for)
    prefix = f"ivs/v1/123456789012/abcd1234/2026/3/14/11/0/recAAAA{room_id[-5:]}"
    marks = [
        _mark("ProductListed", T0 - timedelta(seconds=30), room_id=room_id, product_id="p-early", name="早鸟",
              live_price=990, stock_left=5),                                                   # clamped to 0
        _mark("ProductListed", T0 + timedelta(seconds=2), room_id=room_id, product_id="p-1", name="羽绒服",
              live_price=19900, stock_left=10),
        _mark("ProductListed", T0 + timedelta(seconds=3), room_id=room_id, product_id="p-1", name="羽绒服",
              live_price=18900, stock_left=10, cause="price_changed"),                          # not a listing
        _mark("FlashSaleStarted", T0 + timedelta(seconds=5), room_id=room_id, flash_sale_id="fs-1", product_id="p-1",
              name="羽绒服秒杀", price=9900, list_price=19900, stock=5, per_user_limit=1,
              starts_at=_iso(T0), ends_at=_iso(T0)),
        _mark("CouponDropped", T0 - timedelta(seconds=5), room_id=room_id, drop_id="d-before", template_id="t",
              purpose="live", quantity=1, drops_at=_iso(T0), name="券", kind="fixed", amount=500, threshold=0),
        _mark("LotteryOpened", T0 + timedelta(seconds=60), room_id=room_id, lottery_id="l-after", kind="keyword",
              prize_kind="gift", prize_name="抱枕", winners=1, opens_at=_iso(T0), closes_at=_iso(T0), commitment="x"),
    ]
    for mark in marks:
        invoke("replay_tasks", mark)
    invoke("replay_tasks", marks[1])                     # redelivered: one entry

    not_yet = api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1"))
    assert not_yet.status == 404 and not_yet.json()["code"] == "replay_not_found"

    _record(replay_env, prefix)
    started = invoke("replay_tasks", _recording_end(room_id, prefix))
    assert started == {"outcome": "started"}
    run_id = f"rec-{replay_rules.recording_id(prefix)}"
    execution, events = _run(replay_env, f"{run_id}-ivs")
    assert execution["status"] == "SUCCEEDED", events[-3:]
    assert _states(events) == ["Claim", "Claimed?", "Publish", "Published"]
    output = json.loads(execution["output"])["publish"]["result"]
    assert output["outcome"] == "ready" and output["timeline_entries"] == 3 and output["clips"] == 2

    got = api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1"))
    assert got.status == 200, got.body
    (token,), replay = _tokens_and_keys(got.json())     # one token for every URL of the reply
    claims = _claims(token, f"{prefix}/media/hls/master.m3u8")
    assert claims["lc:replay-prefix"] == prefix and claims["sub"] == "viewer-1"
    assert claims["exp"] - claims["iat"] == 24 * 3600      # a public room's replay: a day
    assert got.json()["playlist_expires_at"] == datetime.fromtimestamp(claims["exp"], timezone.utc).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    assert replay["playlist_url"] == f"https://replay.example.com/{prefix}/media/hls/master.m3u8"
    assert replay["duration_seconds"] == 9.0
    assert replay["thumbnails"] == [f"https://replay.example.com/{prefix}/media/thumbnails/240p30/thumb{i}.jpg"
                                    for i in range(2)]
    assert [(e["offset_seconds"], e["kind"], e["ref_id"], e["price"]) for e in replay["timeline"]] == [
        (0.0, "listing", "p-early", 990), (2.0, "listing", "p-1", 19900), (5.0, "flash_sale", "fs-1", 9900)]

    clip_tokens, clips = _tokens_and_keys(
        api.call("GET", f"/v1/rooms/{room_id}/replay/clips", token=tokens_for("viewer-1")).json()["items"])
    assert len(clip_tokens) == 1
    assert sorted((c["product_id"], c["start_seconds"], c["end_seconds"]) for c in clips) == [
        ("p-1", 2.0, 9.0), ("p-early", 0.0, 2.0)]
    s3 = replay_env.client("s3")
    clip_p1 = next(c for c in clips if c["product_id"] == "p-1")
    key = clip_p1["playlist_url"].removeprefix("https://replay.example.com/").replace("master.m3u8",
                                                                                     "240p30/playlist.m3u8")
    media = m3u8.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode())
    assert [s.uri for s in media.segments] == [f"../../../media/hls/240p30/{i}.ts" for i in (1, 2, 3, 4)]
    assert media.is_endlist and media.target_duration == 2

    # the same Recording End again: refused by name; the S3 trigger runs and changes nothing
    assert invoke("replay_tasks", _recording_end(room_id, prefix)) == {"outcome": "duplicate"}
    assert invoke("replay_tasks", _object_created(prefix)) == {"outcome": "started"}
    execution, events = _run(replay_env, f"{run_id}-s3")
    assert execution["status"] == "SUCCEEDED" and json.loads(execution["output"])["claim"]["outcome"] == "duplicate"
    assert "Publish" not in _states(events)
    assert _tokens_and_keys(api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1")).json())[1] \
        == replay

    # an older recording of the room published late does not replace the newer one
    older = f"ivs/v1/123456789012/abcd1234/2026/3/14/10/0/recOLD{room_id[-5:]}"
    _record(replay_env, older)
    s3.put_object(Bucket=BUCKET, Key=f"{older}/events/recording-ended.json", Body=s3.get_object(
        Bucket=BUCKET, Key=f"{prefix}/events/recording-ended.json")["Body"].read().replace(b"11:00:", b"10:00:"))
    invoke("replay_tasks", _recording_end(room_id, older))
    execution, _ = _run(replay_env, f"rec-{replay_rules.recording_id(older)}-ivs")
    assert json.loads(execution["output"])["publish"]["outcome"] == "superseded"
    assert _tokens_and_keys(api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1")).json(
    ))[1]["playlist_url"] == replay["playlist_url"]

    # clips cut by the host
    host = tokens_for("host-1")
    outside = api.call("POST", f"/v1/rooms/{room_id}/replay/clips", token=host,
                       json_body={"start_seconds": 5, "end_seconds": 12})
    assert outside.status == 422 and outside.json()["code"] == "clip_outside_recording"
    backwards = api.call("POST", f"/v1/rooms/{room_id}/replay/clips", token=host,
                         json_body={"start_seconds": 5, "end_seconds": 4})
    assert backwards.status == 422 and backwards.json()["code"] == "clip_outside_recording"
    assert api.call("POST", f"/v1/rooms/{room_id}/replay/clips", token=tokens_for("viewer-1"),
                    json_body={"start_seconds": 1, "end_seconds": 3}).status == 403
    cut = api.call("POST", f"/v1/rooms/{room_id}/replay/clips", token=host,
                   json_body={"start_seconds": 2.5, "end_seconds": 5.5, "product_id": "p-1", "title": "上身效果"})
    assert cut.status == 201, cut.body
    (cut_token,), body = _tokens_and_keys(cut.json())
    assert _claims(cut_token, f"{prefix}/clips/{body['clip_id']}/master.m3u8")["sub"] == "host-1"
    assert body["kind"] == "host" and body["duration_seconds"] == 3.0
    key = body["playlist_url"].removeprefix("https://replay.example.com/").replace("master.m3u8",
                                                                                  "240p30/playlist.m3u8")
    text = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    assert "#EXT-X-START:TIME-OFFSET=0.5" in text
    assert [s.uri.rsplit("/", 1)[-1] for s in m3u8.loads(text).segments] == ["1.ts", "2.ts"]

    # the room made a test room: only its host and operators see the replay, with short-lived tokens
    patched = api.call("PATCH", f"/v1/rooms/{room_id}", token=host, json_body={"visibility": "test"})
    assert patched.status == 200, patched.body
    assert api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1")).status == 404
    for who in ("host-1", "operator-1"):
        (private,), bare = _tokens_and_keys(api.call("GET", f"/v1/rooms/{room_id}/replay",
                                                     token=tokens_for(who)).json())
        claims = _claims(private, f"{prefix}/media/thumbnails/240p30/thumb0.jpg")
        assert claims["exp"] - claims["iat"] == 9 + 15 * 60 and claims["sub"] == who   # its length + 15 min
        assert bare["playlist_url"] == replay["playlist_url"]
    from livecommerce.media import playback

    with pytest.raises(playback.PlaybackTokenInvalid, match="wrong_prefix"):   # bound to this recording
        _claims(private, f"{older}/media/hls/master.m3u8")


def test_bare_urls_where_the_distribution_checks_no_token(replay_env, api, tokens_for, monkeypatch):
    """REPLAY_URL_TOKENS unset (CDK and the local stack set it): the object's bare URL."""
    from livecommerce.media import replays
    from livecommerce.media.replay_storage import ReplayItem, bind_all

    room_id = _room(api, tokens_for)
    bind_all()
    prefix = f"ivs/v1/123456789012/abcd1234/2026/3/14/11/0/recBARE{room_id[-5:]}"
    ReplayItem(*ReplayItem.key(room_id), room_id=room_id, state="ready", prefix=prefix, bucket=BUCKET,
               recording_started_at=_iso(T0), duration_ms=9000, master_key=f"{prefix}/media/hls/master.m3u8",
               renditions=[], thumbnails=[], timeline=[]).save()
    tokenised = api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1")).json()
    assert tokenised["playlist_url"].startswith(BASE + "t/") and tokenised["playlist_expires_at"]
    monkeypatch.delenv(replays.URL_TOKENS_ENV)
    bare = api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1")).json()
    assert bare["playlist_url"] == f"{BASE}{prefix}/media/hls/master.m3u8" and bare["playlist_expires_at"] is None


def test_missing_recording_unknown_room_and_late_object(replay_env, api, tokens_for):
    from livecommerce.media import replay_rules
    from livecommerce.media.replay_storage import RecordingItem, bind_all
    from local.lambda_runtime import invoke

    room_id = _room(api, tokens_for)
    prefix = f"ivs/v1/123456789012/abcd1234/2026/3/14/11/0/recMISS{room_id[-5:]}"
    _record(replay_env, prefix, ended=False)
    invoke("replay_tasks", _recording_end(room_id, prefix))
    run_id = f"rec-{replay_rules.recording_id(prefix)}"
    execution, events = _run(replay_env, f"{run_id}-ivs")
    assert execution["status"] == "SUCCEEDED"
    assert _states(events)[-2:] == ["RecordMissing", "Missing"]
    pending = api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1"))
    assert pending.status == 409 and pending.json()["code"] == "replay_not_ready" \
        and pending.json()["state"] == "missing_recording"
    bind_all()
    assert RecordingItem.get(*RecordingItem.key(replay_rules.recording_id(prefix))).state == "missing_recording"

    # recording-ended.json arrives late: its Object Created event starts the machine, which publishes
    _ended(replay_env, prefix)
    assert invoke("replay_tasks", _object_created(prefix)) == {"outcome": "started"}
    execution, _ = _run(replay_env, f"{run_id}-s3")
    assert json.loads(execution["output"])["publish"]["outcome"] == "ready"
    assert api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1")).status == 200

    # a recording of a channel that is no room of this stage
    stranger = "ivs/v1/123456789012/zzzz/2026/3/14/11/0/recSTRANGER"
    event = _recording_end("01JNOTAROOM000000000000000", stranger)
    event["detail"]["channel_name"] = "someone-elses-channel"
    invoke("replay_tasks", event)
    execution, _ = _run(replay_env, f"rec-{replay_rules.recording_id(stranger)}-ivs")
    assert execution["status"] == "SUCCEEDED" and json.loads(execution["output"])["claim"]["outcome"] == "unknown_room"
    item = RecordingItem.get(*RecordingItem.key(replay_rules.recording_id(stranger)))
    assert item.state == "unknown_room" and "someone-elses-channel" in item.detail

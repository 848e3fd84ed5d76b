"""The IVS stand-in records like IVS auto-record (local.ivs.recording), into S3 (moto, in process).

One scenario: a host pushes with ffmpeg, drops, reconnects inside the reconnect window, stops.
Checked: the prefix layout; recording-started.json is in the bucket when Recording Start goes out
and recording-ended.json (IVS's format, read by the replay pipeline's own parser) when Recording
End does; one recording over both streams with an EXT-X-DISCONTINUITY where the reconnect is; every
segment the playlist names is in the bucket; thumbnails every targetIntervalSeconds; and the
recording plays: ffmpeg decodes the whole multivariant playlist from a copy of the bucket.
"""
from __future__ import annotations

import json
import re
import subprocess

import boto3
import m3u8
import pytest
from moto import mock_aws

from livecommerce.media.replay_rules import RecordingEnded, join
from local.ivs import LocalIvs
from tests.integration.localstack.test_local_ivs import needs_push, push, stop_encoder, wait_for, named

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120), needs_push]

BUCKET = "rec-bucket"
PREFIX = re.compile(r"^ivs/v1/123456789012/([A-Za-z0-9]+)/\d{4}/\d{1,2}/\d{1,2}/\d{1,2}/\d{1,2}/[A-Za-z0-9]+$")


def _keys(s3, prefix: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix + "/")
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def test_push_reconnect_stop_records_like_ivs(tmp_path):
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        seen_at_event: dict[str, set[str]] = {}

        def sink(event: dict) -> None:   # what the bucket holds when each recording event goes out
            status = event["detail"].get("recording_status")
            if status:
                seen_at_event[status] = _keys(s3, event["detail"]["recording_s3_key_prefix"])

        events: list[dict] = []
        with LocalIvs(None, rtmp_port=0, emit=[sink, events.append], reconnect_window_seconds=8, record=True,
                      recording_bucket=BUCKET, thumbnail_interval_seconds=2, region="us-east-1") as ivs:
            client = ivs.client()
            created = client.create_channel(name="room-rec",
                                            recordingConfigurationArn=ivs.recording_configuration_arn)
            key = created["streamKey"]["value"]
            encoder = push(ivs.urls["rtmp"], key, seconds=3)
            first = wait_for(lambda: named(events, "Stream Start"), 30, "Stream Start")[0]["detail"]["stream_id"]
            encoder.wait(timeout=30)
            wait_for(lambda: named(events, "Stream End", first), 15, "Stream End")
            # inside the window: the same recording (8 s: an ffmpeg start on a loaded 2-core machine took
            # longer than the 4 s this window once was, and the reconnect became a second recording)
            again = push(ivs.urls["rtmp"], key, seconds=3)
            try:
                wait_for(lambda: [e for e in named(events, "Stream Start") if e["detail"]["stream_id"] != first],
                         30, "second Stream Start")
                again.wait(timeout=30)
            finally:
                stop_encoder(again)
            end = wait_for(lambda: named(events, "Recording End"), 30, "Recording End")[0]["detail"]
            assert ivs.flush_events()
        prefix = end["recording_s3_key_prefix"]
        assert PREFIX.match(prefix) and PREFIX.match(prefix).group(1) == created["channel"]["arn"].rsplit("/", 1)[1]
        assert end["recording_s3_bucket_name"] == BUCKET
        assert len(named(events, "Recording Start")) == 1 and len(end["recording_session_stream_ids"]) == 2

        # the metadata file is there before its event; recording-ended.json only at the end
        assert f"{prefix}/events/recording-started.json" in seen_at_event["Recording Start"]
        assert f"{prefix}/events/recording-ended.json" not in seen_at_event["Recording Start"]
        assert f"{prefix}/events/recording-ended.json" in seen_at_event["Recording End"]

        started = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{prefix}/events/recording-started.json")["Body"].read())
        assert started["recording_status"] == "RECORDING_STARTED" and started["channel_arn"] == created["channel"]["arn"]
        ended = RecordingEnded.model_validate(json.loads(
            s3.get_object(Bucket=BUCKET, Key=f"{prefix}/events/recording-ended.json")["Body"].read()))
        rendition = ended.best_rendition()
        assert rendition.path == "360p30" and (rendition.resolution_width, rendition.resolution_height) == (640, 360)
        assert ended.recording_ended_at > ended.recording_started_at

        keys = _keys(s3, prefix)
        (_, playlist_key), = ended.rendition_keys(prefix)
        playlist = m3u8.loads(s3.get_object(Bucket=BUCKET, Key=playlist_key)["Body"].read().decode())
        assert playlist.is_endlist and playlist.playlist_type == "vod"
        uris = [segment.uri for segment in playlist.segments]
        assert uris == [f"{n}.ts" for n in range(len(uris))]
        assert all(join(prefix, "media/hls", rendition.path, uri) in keys for uri in uris)
        discontinuities = [i for i, segment in enumerate(playlist.segments) if segment.discontinuity]
        assert len(discontinuities) == 1 and 0 < discontinuities[0] < len(uris) - 1   # where the reconnect is
        recorded = sum(segment.duration for segment in playlist.segments)
        assert 4.0 <= recorded <= 8.5, recorded                                    # 3 s + 3 s pushed
        assert abs(ended.media.hls.duration_ms / 1000 - recorded) < 0.01
        thumbs = sorted(k for k in keys if k.startswith(ended.thumbnail_dir(prefix) + "/"))
        assert thumbs and thumbs[0].endswith("/thumb0.jpg") and len(thumbs) == int((recorded - 1e-6) // 2) + 1
        assert s3.get_object(Bucket=BUCKET, Key=thumbs[0])["Body"].read()[:2] == b"\xff\xd8"   # a JPEG

        # it plays: the whole recording decodes from a copy of the bucket
        for key in keys:
            target = tmp_path / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    master = tmp_path / ended.master_key(prefix)
    probe = subprocess.run(["ffmpeg", "-v", "error", "-i", str(master), "-map", "0:v:0", "-f", "null", "-"],
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    decoded = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                              "stream=nb_read_frames", "-of", "csv=p=0", str(master)],
                             capture_output=True, text=True, timeout=60)
    assert int(decoded.stdout.strip().splitlines()[0]) >= 30 * 4    # at least 4 s of 30 fps video

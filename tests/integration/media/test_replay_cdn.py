"""The local replay CDN (local/replay_cdn.py) checks replay tokens as the distribution's Lambda@Edge
does: ffprobe plays a real HLS recording (ffmpeg's muxer) and a clip over it through
/t/<token>/<key> (relative segment URIs, ../ included, inherit the token); no token, an expired
one, another recording's, a forged one: 403 (docs/replays.md)."""
from __future__ import annotations

import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg missing: run `make test`")]

BUCKET = "livecommerce-local-recordings"
PREFIX = "ivs/v1/123456789012/abcd1234/2026/3/14/11/0/recCDN"
OTHER = "ivs/v1/123456789012/abcd1234/2026/3/14/12/0/recOTHER"


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _probe(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url],
                          capture_output=True, text=True, timeout=60)


def test_tokens_open_their_recording_only(aws_env, tmp_path: Path):
    from livecommerce.media import playback
    from local.replay_cdn import ReplayCdn

    hls = tmp_path / "hls"
    hls.mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
                    "-t", "3", "-c:v", "libx264", "-g", "10", "-f", "hls", "-hls_time", "1",
                    "-hls_playlist_type", "vod", "-hls_segment_filename", str(hls / "%d.ts"),
                    str(hls / "playlist.m3u8")], check=True, timeout=60)
    s3 = aws_env.client("s3")
    for recording in (PREFIX, OTHER):
        for file in hls.iterdir():
            s3.put_object(Bucket=BUCKET, Key=f"{recording}/media/hls/240p30/{file.name}", Body=file.read_bytes())
        s3.put_object(Bucket=BUCKET, Key=f"{recording}/media/hls/master.m3u8", Body=(
            b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=160x120\n240p30/playlist.m3u8\n"))
    clip = "\n".join(line if not line.endswith(".ts") else f"../../../media/hls/240p30/{line}"
                     for line in (hls / "playlist.m3u8").read_text().splitlines()) + "\n"
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/clips/c1/240p30/playlist.m3u8", Body=clip.encode())
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/clips/c1/master.m3u8", Body=(
        b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=160x120\n240p30/playlist.m3u8\n"))

    now = [1_800_000_000.0]
    cdn = ReplayCdn(aws_env, BUCKET, clock=lambda: now[0])
    base = cdn.start()
    try:
        private = playback.load_playback_private_key()
        token, _ = playback.sign_replay_token(PREFIX, "host-1", private_key_pem=private, ttl_seconds=600,
                                              now=now[0])
        master = f"{base}/t/{token}/{PREFIX}/media/hls/master.m3u8"
        played = _probe(master)
        assert played.returncode == 0 and float(played.stdout.strip()) == pytest.approx(3.0, abs=0.3), played.stderr
        clip_played = _probe(f"{base}/t/{token}/{PREFIX}/clips/c1/master.m3u8")     # ../../../ under /t/<token>/
        assert clip_played.returncode == 0 and float(clip_played.stdout) == pytest.approx(3.0, abs=0.3)
        assert _status(f"{base}/t/{token}/{PREFIX}/media/hls/240p30/0.ts") == 200

        assert _status(f"{base}/{PREFIX}/media/hls/master.m3u8") == 403                  # no token
        assert _probe(f"{base}/{PREFIX}/media/hls/master.m3u8").returncode != 0
        assert _status(f"{base}/t/{token}/{OTHER}/media/hls/master.m3u8") == 403         # another recording
        assert _status(f"{base}/t/{token}/{PREFIX}/media/hls/240p30/../../../../recOTHER/x.ts") == 403
        forged, _ = playback.sign_replay_token(PREFIX, "host-1", private_key_pem=playback.generate_key_pair()[0],
                                               ttl_seconds=600, now=now[0])
        assert _status(f"{base}/t/{forged}/{PREFIX}/media/hls/master.m3u8") == 403       # not our key
        now[0] += 600 + playback.CLOCK_SKEW_SECONDS                                       # expired
        assert _status(f"{base}/t/{token}/{PREFIX}/media/hls/240p30/1.ts") == 403
        assert _probe(master).returncode != 0
    finally:
        cdn.stop()

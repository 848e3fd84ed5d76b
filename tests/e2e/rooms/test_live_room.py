"""A live room end to end on the local stack: real HTTP, a real RTMP push from
ffmpeg, real HLS playback with the viewer's token, lifecycle from the stand-in's
IVS events through the same stream_events handler."""
from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin

import pytest

from stackproc import request

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg missing: run `make test` to install it")]


def _login(url: str, user: str) -> str:
    status, _, body = request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": user})
    assert status == 200, body
    return body["token"]


def _wait_for_status(url: str, room_id: str, wanted: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = request("GET", f"{url}/v1/rooms/{room_id}")[2]["room"]["status"]
        if status == wanted:
            return status
        time.sleep(0.3)
    raise AssertionError(f"room stayed {status}, wanted {wanted}")


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _push(server: str, key: str, seconds: int) -> subprocess.Popen:
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", f"testsrc=size=640x360:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-f", "flv", f"{server}{key}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_host_goes_live_viewer_watches_stream_drops_host_ends(stack):
    url, _, _ = stack
    host, viewer = _login(url, "host-1"), _login(url, "viewer-1")
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": "E2E live", "scheduled_start": start}, token=host)
    assert status == 201, room
    room_id = room["id"]

    status, _, reservation = request("PUT", f"{url}/v1/rooms/{room_id}/reservation",
                                     {"subscribe_message": True}, token=viewer)
    assert status == 201 and reservation["reservation_count"] == 1

    assert request("GET", f"{url}/v1/rooms/{room_id}/ingest", token=viewer)[0] == 403
    status, _, ingest = request("GET", f"{url}/v1/rooms/{room_id}/ingest", token=host)
    assert status == 200, ingest

    wrong = _push(ingest["server"], "sk_wrong_key", 3)
    assert wrong.wait(timeout=20) != 0  # the ingest refuses a wrong stream key

    pusher = _push(ingest["server"], ingest["stream_key"], 600)   # until terminate() below
    try:
        _wait_for_status(url, room_id, "live")
        status, _, playback = request("GET", f"{url}/v1/rooms/{room_id}/playback", token=viewer)
        assert status == 200, playback
        code, master = _get(playback["playback_url"])
        assert code == 200, master
        tokenless = playback["playback_url"].split("?")[0]
        assert _get(tokenless)[0] == 403
        variant = next(line for line in master.decode().splitlines() if line and not line.startswith("#"))
        code, media = _get(urljoin(playback["playback_url"], variant))
        assert code == 200 and b"#EXTINF" in media
        segment = next(line for line in media.decode().splitlines() if line and not line.startswith("#"))
        code, data = _get(urljoin(urljoin(playback["playback_url"], variant), segment))
        assert code == 200 and len(data) > 1000
    finally:
        pusher.terminate()
        pusher.wait(timeout=10)

    _wait_for_status(url, room_id, "interrupted")
    status, _, ended = request("POST", f"{url}/v1/rooms/{room_id}/end", token=host)
    assert status == 200 and ended["status"] == "ended"
    assert request("GET", f"{url}/v1/rooms/{room_id}/playback", token=viewer)[0] == 409

"""What the end-to-end tests on the local stack share: logins (dev and through the WeChat
code2session stand-in), AWS clients on the embedded AWS, the scheduler clock, the WeChat
subscribe-message inbox, an ffmpeg push to the IVS stand-in and ffmpeg playback of HLS.

Used by tests/e2e/notifications/test_reminder_on_local_stack.py, tests/e2e/media/
test_replay_on_local_stack.py and tests/e2e/workflows/test_live_session_workflows.py."""
from __future__ import annotations

import subprocess
import uuid
from datetime import datetime

import boto3

from stackproc import request, url_of
from tests.polling import poll

REGION = "ap-northeast-1"


def aws(lines: list[str], service: str):
    """A boto3 client of the stack's embedded AWS."""
    return boto3.client(service, endpoint_url=url_of(lines, "aws"), region_name=REGION,
                        aws_access_key_id="local", aws_secret_access_key="local")


def login(url: str, user: str) -> str:
    """A dev login (the local stage seeds operator-1, host-1, host-2, viewer-1, viewer-2)."""
    status, _, body = request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": user})
    assert status == 200, body
    return body["token"]


def wechat_login(url: str, wechat: str, openid: str | None = None) -> tuple[str, str, str]:
    """A viewer logged in through the code2session stand-in: (token, user id, openid)."""
    openid = openid or f"o-e2e-{uuid.uuid4().hex[:8]}"
    status, _, minted = request("POST", f"{wechat}/__standin/codes", {"openid": openid})
    assert status == 200, minted
    status, _, body = request("POST", f"{url}/v1/auth/login", {"provider": "wechat", "code": minted["code"]})
    assert status == 200, body
    return body["token"], body["user"]["id"], openid


def inbox(wechat: str, openid: str) -> list[dict]:
    """The WeChat stand-in's subscribe messages to one openid, in the order they came."""
    status, _, body = request("GET", f"{wechat}/__standin/inbox")
    assert status == 200, body
    return [m for m in body["inbox"] if m["touser"] == openid]


def clock(scheduler_url: str, **move: float) -> datetime:
    """The local clock (Scheduler and API Gateway's request stamps): read it, or move it with
    advance_seconds= / offset_seconds=. Returns its `now`."""
    if move:
        status, _, body = request("POST", f"{scheduler_url}/__local/clock", move)
    else:
        status, _, body = request("GET", f"{scheduler_url}/__local/clock")
    assert status == 200, body
    return when(body["now"])


def tick(scheduler_url: str) -> list[str]:
    """Fire what is due on the local clock now: the names of the schedules fired."""
    status, _, body = request("POST", f"{scheduler_url}/__local/scheduler/tick", {})
    assert status == 200, body
    return [f["name"] for f in body["fired"]]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def push(ingest: dict, seconds: float) -> subprocess.Popen:
    """ffmpeg pushes `seconds` of a test pattern with a tone (x264 + AAC, real time) to the ingest."""
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
         "-f", "lavfi", "-i", f"testsrc=size=640x360:rate=30:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-f", "flv", f"{ingest['server']}{ingest['stream_key']}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_live(url: str, room_id: str, pusher: subprocess.Popen, timeout: float = 30) -> None:
    def live() -> bool:
        assert pusher.poll() is None, "ffmpeg stopped before the room went live"
        return request("GET", f"{url}/v1/rooms/{room_id}")[2]["room"]["status"] == "live"
    assert poll(live, timeout=timeout, interval=0.3), "the room did not go live"


def stop_pusher(pusher: subprocess.Popen, timeout: float = 40) -> None:
    """Wait for ffmpeg to finish its push (or kill it after `timeout`)."""
    try:
        assert pusher.wait(timeout=timeout) == 0, pusher.stderr.read()
    finally:
        if pusher.poll() is None:
            pusher.kill()
            pusher.wait()


def wait_replay(url: str, room_id: str, token: str, timeout: float) -> dict | None:
    """Poll GET /replay until 200 (404 / 409 meanwhile: never a 500); the replay or None."""
    def ready():
        status, _, body = request("GET", f"{url}/v1/rooms/{room_id}/replay", token=token)
        assert status in (200, 404, 409), (status, body)
        return body if status == 200 else None
    return poll(ready, timeout=timeout, interval=0.25)


def decoded_seconds(playlist_url: str, seconds: float) -> float:
    """ffmpeg plays `seconds` of the HLS URL (every byte decoded); returns the seconds it decoded."""
    run = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-stats", "-i", playlist_url,
                          "-t", str(seconds), "-map", "0:v:0", "-f", "null", "-"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    stamps = [part for part in run.stderr.replace("\r", "\n").split() if part.startswith("time=")]
    assert stamps, run.stderr
    h, m, s = stamps[-1][5:].split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)

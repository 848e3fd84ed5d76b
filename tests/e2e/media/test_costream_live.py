"""Co-streaming end to end on the local stack (issue 15, outcomes 3 and 5): the host is live
on the room's channel (a red picture), a viewer applies and the host accepts; host and guest
push ffmpeg pictures (red, blue) to the IVS real-time stand-in's stage with their participant
tokens; the host sets the layout (grid, then pip) and the viewer's HLS of the room shows the
composition, 1280x720, each colour where the layout puts it; through every switch (host ->
composition, grid -> pip, composition -> host) the viewer's playlist keeps advancing with no
ENDLIST and the room never leaves `live` (no stream-drop notice)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin

import pytest

from stackproc import request

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg missing: run `make test` to install it")]

RED, BLUE = "red", "blue"


def _login(url: str, user: str) -> str:
    status, _, body = request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": user})
    assert status == 200, body
    return body["token"]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _push(target: str, colour: str) -> subprocess.Popen:
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", f"color=c={colour}:size=640x360:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440",
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-f", "flv", target],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


class Watcher(threading.Thread):
    """A viewer's player: polls the media playlist, records (status, media sequence, ENDLIST)."""

    def __init__(self, media_url: str) -> None:
        super().__init__(daemon=True)
        self.media_url = media_url
        self.samples: list[tuple[int, int, bool, str]] = []
        self.stop = threading.Event()
        self.newest = ""
        self.changes: list[float] = []      # when a new segment appeared

    def run(self) -> None:
        while not self.stop.is_set():
            code, body = _get(self.media_url)
            text = body.decode(errors="replace")
            sequence = next((int(line.split(":")[1]) for line in text.splitlines()
                             if line.startswith("#EXT-X-MEDIA-SEQUENCE:")), -1)
            last = [line for line in text.splitlines() if line and not line.startswith("#")]
            self.samples.append((code, sequence, "#EXT-X-ENDLIST" in text, last[-1] if last else ""))
            if last and last[-1] != self.newest:
                self.newest = last[-1]
                self.changes.append(time.monotonic())
            self.stop.wait(0.5)

    def latest_segment(self, after: str = "") -> str:
        """A segment written after `after` (a segment name), as a URL."""
        code, body = _get(self.media_url)
        segments = [line for line in body.decode().splitlines() if line and not line.startswith("#")]
        if code != 200 or not segments or segments[-1] == after:
            return ""
        return urljoin(self.media_url, segments[-1])


def _frame(segment_url: str) -> tuple[int, int, bytes]:
    """(width, height, rgb24 pixels) of the first frame of an HLS segment."""
    code, data = _get(segment_url)
    assert code == 200
    with tempfile.NamedTemporaryFile(suffix=".ts") as ts:
        ts.write(data)
        ts.flush()
        probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                "stream=width,height", "-of", "csv=p=0", ts.name],
                               capture_output=True, text=True, check=True).stdout
        width, height = (int(v) for v in next(line for line in probe.splitlines() if "," in line).split(",")[:2])
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", ts.name, "-frames:v", "1",
                              "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return width, height, raw


def _colour(frame: tuple[int, int, bytes], x: int, y: int) -> str:
    width, _, raw = frame
    r, g, b = raw[(y * width + x) * 3:(y * width + x) * 3 + 3]
    if r > 150 and g < 90 and b < 90:
        return RED
    if b > 150 and r < 90 and g < 90:
        return BLUE
    return f"rgb({r},{g},{b})"


def _composed(watcher: Watcher, check, what: str, timeout: float = 45):
    seen = {"segment": ""}

    def attempt():
        url = watcher.latest_segment(after=seen["segment"])
        if not url:
            return None
        seen["segment"] = url.rsplit("/", 1)[-1].split("?")[0]
        frame = _frame(url)
        return frame if check(frame) else None
    return _wait(attempt, timeout, what)


def test_host_and_guest_composed_into_the_room_through_grid_pip_and_back(stack):
    url, _, _ = stack
    host, guest = _login(url, "host-1"), _login(url, "viewer-2")
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": "E2E co-stream", "scheduled_start": start},
                              token=host)
    assert status == 201, room
    room_id = room["id"]
    status, _, ingest = request("GET", f"{url}/v1/rooms/{room_id}/ingest", token=host)
    assert status == 200, ingest

    pushers: list[subprocess.Popen] = []
    watcher = None
    try:
        pushers.append(_push(ingest["server"] + ingest["stream_key"], RED))   # the host on the channel
        _wait(lambda: request("GET", f"{url}/v1/rooms/{room_id}")[2]["room"]["status"] == "live", 30, "live")
        status, _, playback = request("GET", f"{url}/v1/rooms/{room_id}/playback", token=guest)
        assert status == 200, playback
        _, master = _get(playback["playback_url"])
        variant = next(line for line in master.decode().splitlines() if line and not line.startswith("#"))
        watcher = Watcher(urljoin(playback["playback_url"], variant))
        watcher.start()
        before = _composed(watcher, lambda f: f[:2] == (640, 360), "the host's own picture")
        assert _colour(before, 320, 180) == RED

        # The guest applies, the host accepts: both get participant tokens for the stage.
        status, _, seat = request("POST", f"{url}/v1/rooms/{room_id}/costream/requests", token=guest)
        assert status == 201, seat
        status, _, accepted = request("POST", f"{url}/v1/rooms/{room_id}/costream/requests/"
                                              f"{seat['request_id']}/accept", token=host)
        assert status == 200, accepted
        host_token = accepted["host_token"]
        status, _, mine = request("GET", f"{url}/v1/rooms/{room_id}/costream", token=guest)
        guest_token = mine["my_token"]
        assert guest_token and guest_token["participant_id"] != host_token["participant_id"]
        pushers.append(_push(host_token["rtmps_url"] + host_token["token"], RED))      # the host on the stage
        pushers.append(_push(guest_token["rtmps_url"] + guest_token["token"], BLUE))   # the guest

        # Grid: two tiles side by side, host (order 0) left, guest right.
        status, _, state = request("PUT", f"{url}/v1/rooms/{room_id}/costream/layout", {"layout": "grid"},
                                   token=host)
        assert status == 200 and state["layout"] == "grid", state
        grid = _composed(watcher, lambda f: f[:2] == (1280, 720) and _colour(f, 320, 360) == RED
                         and _colour(f, 960, 360) == BLUE, "the grid composition")
        assert grid[:2] == (1280, 720)

        # Picture in picture: the host full frame, the guest small in the bottom-right corner.
        status, _, state = request("PUT", f"{url}/v1/rooms/{room_id}/costream/layout", {"layout": "pip"},
                                   token=host)
        assert status == 200 and state["layout"] == "pip", state
        pip = _composed(watcher, lambda f: f[:2] == (1280, 720) and _colour(f, 320, 360) == RED
                        and _colour(f, 960, 360) == RED and _colour(f, 1280 - 16 - 160, 720 - 16 - 90) == BLUE,
                        "the picture-in-picture composition")
        assert _colour(pip, 100, 100) == RED

        # Back: the host's encoder takes the channel again, then composing stops.
        pushers.append(_push(ingest["server"] + ingest["stream_key"], RED))
        status, _, state = request("PUT", f"{url}/v1/rooms/{room_id}/costream/layout", {"layout": "off"},
                                   token=host)
        assert status == 200 and state["layout"] == "off", state
        after = _composed(watcher, lambda f: f[:2] == (640, 360), "the host's own picture again")
        assert _colour(after, 320, 180) == RED
    finally:
        if watcher is not None:
            watcher.stop.set()
            watcher.join(5)
        for pusher in pushers:
            pusher.terminate()
        for pusher in pushers:
            pusher.wait(timeout=10)

    # The viewer's playlist: always there, never ended, its media sequence never went back.
    assert len(watcher.samples) > 20
    assert all(code == 200 for code, *_ in watcher.samples), [s for s in watcher.samples if s[0] != 200][:3]
    assert not any(ended for *_, ended, _ in watcher.samples)
    sequences = [sequence for _, sequence, _, _ in watcher.samples]
    assert sequences == sorted(sequences) and sequences[-1] > sequences[0]
    # The longest wait for a new segment across the three switches (the composer's start-up).
    stall = max(b - a for a, b in zip(watcher.changes, watcher.changes[1:]))
    print(f"longest wait for a new segment: {stall:.1f} s over {len(watcher.changes)} segments")
    assert stall < 10, stall
    # The room stayed live through the switches: no interruption notice could have fired.
    status, _, current = request("GET", f"{url}/v1/rooms/{room_id}")
    assert current["room"]["status"] == "live" and not current["room"].get("interrupted_at"), current["room"]

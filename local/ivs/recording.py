"""IVS auto-record to S3, for the stand-in: what IVS writes under a recording's prefix.

When a channel with a recording configuration goes live, IVS writes, under
``ivs/v1/<account>/<channel id>/<yyyy>/<m>/<d>/<h>/<mm>/<recording id>`` of the
configuration's bucket (IVS user guide, "Auto-Record to Amazon S3"):

    events/recording-started.json       at Recording Start
    media/hls/master.m3u8               the multivariant playlist
    media/hls/<rendition>/playlist.m3u8 each rendition's media playlist (VOD, #EXT-X-ENDLIST at the end)
    media/hls/<rendition>/<n>.ts        the segments
    media/thumbnails/<rendition>/thumb<n>.jpg   every targetIntervalSeconds (thumbnailConfiguration INTERVAL)
    events/recording-ended.json         at Recording End (after the reconnect window), last

`Recorder` is told every IVS event *before* it goes out (`observe`), as IVS has
written its objects when it reports them: the metadata file first, then the
event. While a recording is open a thread copies the segments nginx-rtmp writes
for the channel's stream key (``<hls dir>/<key>-<n>.ts``, 1 s fragments, kept a
few seconds only) into the bucket, numbered from 0 per recording; a reconnect
inside the window continues the same recording after an ``#EXT-X-DISCONTINUITY``.
One rendition, named like IVS's (``<height>p<fps>``, from ffprobe of the first
segment): the stand-in does not transcode, like an IVS BASIC channel.

The bucket is reached with boto3 from the environment (``AWS_ENDPOINT_URL``: the
embedded AWS of the local stack, or moto in a test), so writing
``recording-ended.json`` raises the bucket's S3 -> EventBridge "Object Created"
notification there too.
"""
from __future__ import annotations

import json
import logging
import math
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from local.ivs.state import RECORDING_STATE_CHANGE, STREAM_STATE_CHANGE, IvsState

log = logging.getLogger("local.ivs.recording")

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
HLS_PATH = "media/hls"
THUMBNAILS_PATH = "media/thumbnails"
_EXTINF = re.compile(r"^#EXTINF:([0-9.]+)")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Recorded:
    """One segment copied into the recording."""

    number: int              # its name in the recording: <number>.ts
    duration: float
    size: int
    discontinuity: bool      # the first segment of a reconnected stream


@dataclass
class OpenRecording:
    channel_arn: str
    bucket: str
    prefix: str
    stream_key: str
    started_at: float
    thumbnail_interval: float | None          # None: thumbnails DISABLED
    rendition: str = ""                        # "360p30", from the first segment
    width: int | None = None
    height: int | None = None
    segments: list[Recorded] = field(default_factory=list)
    seen: set = field(default_factory=set)     # nginx fragment numbers already copied (this stream)
    next_discontinuity: bool = False
    thumbnails: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def recorded_seconds(self) -> float:
        return sum(s.duration for s in self.segments)


class Recorder:
    def __init__(self, state: IvsState, hls_dir: Path, *, region: str,
                 s3_factory: Callable[[], Any] | None = None, poll_seconds: float = 0.25,
                 settle_seconds: float = 0.5) -> None:
        self.state = state
        self.hls_dir = Path(hls_dir)
        self.region = region
        self._s3_factory = s3_factory
        self._s3 = None
        self.poll_seconds = poll_seconds
        self.settle_seconds = settle_seconds
        self.open: dict[str, OpenRecording] = {}     # by channel ARN
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ivs-recorder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def s3(self):
        if self._s3 is None:
            if self._s3_factory is not None:
                self._s3 = self._s3_factory()
            else:
                import boto3

                self._s3 = boto3.session.Session(region_name=self.region).client("s3")
        return self._s3

    # ------------------------------------------------------------------ events (before they go out)
    def observe(self, detail_type: str, resources: list, detail: dict) -> None:
        channel_arn = str((resources or [""])[0])
        try:
            if detail_type == RECORDING_STATE_CHANGE and detail.get("recording_status") == "Recording Start":
                self._begin(channel_arn, detail)
            elif detail_type == RECORDING_STATE_CHANGE and detail.get("recording_status") == "Recording End":
                self._end(channel_arn, detail)
            elif detail_type == STREAM_STATE_CHANGE and detail.get("event_name") == "Stream Start":
                self._reconnected(channel_arn)
            elif detail_type == STREAM_STATE_CHANGE and detail.get("event_name") == "Stream End":
                recording = self.open.get(channel_arn)
                if recording is not None:
                    self._settle_and_copy(recording)
        except Exception:  # noqa: BLE001 - IVS's recording never holds up its events
            log.exception("recording of %s: %s not written", channel_arn,
                          detail.get("recording_status") or detail.get("event_name"))

    def _begin(self, channel_arn: str, detail: dict) -> None:
        with self.state._lock:
            stream = self.state.live.get(channel_arn)
            channel = self.state.channels.get(channel_arn)
            config = self.state.recording_configurations.get(channel.recording_configuration_arn) \
                if channel is not None else None
        if stream is None:
            return
        thumbs = (getattr(config, "thumbnail_configuration", None) or {}) if config is not None else {}
        interval = float(thumbs.get("targetIntervalSeconds", 60)) \
            if thumbs.get("recordingMode", "INTERVAL") == "INTERVAL" else None
        recording = OpenRecording(channel_arn=channel_arn, bucket=detail["recording_s3_bucket_name"],
                                  prefix=detail["recording_s3_key_prefix"], stream_key=stream.stream_key,
                                  started_at=stream.start_time, thumbnail_interval=interval)
        # nginx-rtmp's fragments of an earlier publish with this key are not this recording
        recording.seen.update(n for n, _ in self._fragments(stream.stream_key))
        recording.seen.difference_update(self._fragments_since(stream.stream_key, stream.start_time - 1))
        with self._lock:
            self.open[channel_arn] = recording
        self._copy_new(recording)
        self._put_json(recording, "events/recording-started.json", {
            "version": "v1", "channel_arn": channel_arn, "recording_started_at": _iso(recording.started_at),
            "recording_status": "RECORDING_STARTED",
            "media": self._media(recording, ended=False)})

    def _reconnected(self, channel_arn: str) -> None:
        recording = self.open.get(channel_arn)
        if recording is None:
            return
        with self.state._lock:
            stream = self.state.live.get(channel_arn)
        with recording.lock:
            if stream is not None:
                recording.stream_key = stream.stream_key
            recording.next_discontinuity = bool(recording.segments)

    def _end(self, channel_arn: str, detail: dict) -> None:
        with self._lock:
            recording = self.open.pop(channel_arn, None)
        if recording is None:
            return
        self._settle_and_copy(recording)
        ended_at = time.time()
        self._write_playlists(recording, final=True)
        media = self._media(recording, ended=True)
        self._put_json(recording, "events/recording-ended.json", {
            "version": "v1", "channel_arn": channel_arn, "recording_started_at": _iso(recording.started_at),
            "recording_ended_at": _iso(ended_at), "recording_status": "RECORDING_ENDED", "media": media})
        log.info("recording %s ended: %d segments, %.1f s", recording.prefix, len(recording.segments),
                 recording.recorded_seconds)

    # ------------------------------------------------------------------ copying
    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            for recording in list(self.open.values()):
                try:
                    if self._copy_new(recording):
                        self._write_playlists(recording, final=False)
                except Exception:  # noqa: BLE001 - the next round tries again
                    log.exception("recording %s: copying segments failed", recording.prefix)

    def _fragments(self, stream_key: str) -> list[tuple[int, float]]:
        """(fragment number, duration) in nginx-rtmp's current playlist of the key."""
        try:
            text = (self.hls_dir / f"{stream_key}.m3u8").read_text()
        except OSError:
            return []
        out, duration = [], None
        prefix = f"{stream_key}-"
        for line in text.splitlines():
            match = _EXTINF.match(line)
            if match:
                duration = float(match.group(1))
            elif line and not line.startswith("#") and duration is not None:
                base = line.rsplit("/", 1)[-1]
                if base.startswith(prefix) and base.endswith(".ts"):
                    out.append((int(base[len(prefix):-3]), duration))
                duration = None
        return out

    def _fragments_since(self, stream_key: str, since: float) -> set[int]:
        numbers = set()
        for number, _ in self._fragments(stream_key):
            try:
                if (self.hls_dir / f"{stream_key}-{number}.ts").stat().st_mtime >= since:
                    numbers.add(number)
            except OSError:
                pass
        return numbers

    def _copy_new(self, recording: OpenRecording) -> bool:
        """Copies the fragments not copied yet; True when any was."""
        copied = False
        with recording.lock:
            for number, duration in self._fragments(recording.stream_key):
                if number in recording.seen:
                    continue
                path = self.hls_dir / f"{recording.stream_key}-{number}.ts"
                try:
                    data = path.read_bytes()
                except OSError:
                    recording.seen.add(number)   # gone before we saw it (only under a stall): skipped
                    log.warning("recording %s: fragment %s expired before it was copied", recording.prefix, number)
                    continue
                if not recording.rendition:
                    self._probe(recording, path)
                segment = Recorded(number=len(recording.segments), duration=duration, size=len(data),
                                   discontinuity=recording.next_discontinuity)
                recording.next_discontinuity = False
                key = f"{recording.prefix}/{HLS_PATH}/{recording.rendition}/{segment.number}.ts"
                self.s3().put_object(Bucket=recording.bucket, Key=key, Body=data, ContentType="video/MP2T")
                start = recording.recorded_seconds
                recording.segments.append(segment)
                recording.seen.add(number)
                copied = True
                self._thumbnails(recording, path, start, start + duration)
        return copied

    def _settle_and_copy(self, recording: OpenRecording) -> None:
        """nginx closes the last fragment when the publisher goes: wait until its playlist stops changing."""
        playlist = self.hls_dir / f"{recording.stream_key}.m3u8"
        deadline = time.monotonic() + 5.0
        last = None
        while time.monotonic() < deadline:
            try:
                stamp = playlist.stat().st_mtime_ns
            except OSError:
                stamp = None
            if stamp == last:
                break
            last = stamp
            time.sleep(self.settle_seconds)
        self._copy_new(recording)

    def _probe(self, recording: OpenRecording, path: Path) -> None:
        recording.rendition = "source"
        if shutil.which("ffprobe") is None:
            return
        try:
            out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                  "stream=width,height,r_frame_rate", "-of", "json", str(path)],
                                 capture_output=True, text=True, timeout=10, check=True).stdout
            stream = json.loads(out)["streams"][0]
            num, _, den = str(stream.get("r_frame_rate", "30/1")).partition("/")
            fps = round(float(num) / float(den or 1))
            recording.width, recording.height = int(stream["width"]), int(stream["height"])
            recording.rendition = f"{recording.height}p{fps}"
        except (subprocess.SubprocessError, OSError, ValueError, KeyError, IndexError, ZeroDivisionError):
            log.warning("recording %s: ffprobe could not read %s", recording.prefix, path.name)

    def _thumbnails(self, recording: OpenRecording, path: Path, start: float, end: float) -> None:
        """thumb<n>.jpg for every multiple n*interval inside [start, end) of the recording."""
        interval = recording.thumbnail_interval
        if not interval or shutil.which("ffmpeg") is None:
            return
        while recording.thumbnails * interval < end - 1e-6:
            at = max(0.0, recording.thumbnails * interval - start)
            try:
                jpg = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1",
                                      "-f", "image2", "-c:v", "mjpeg", "-"], capture_output=True, timeout=10,
                                     check=True).stdout
            except (subprocess.SubprocessError, OSError):
                log.warning("recording %s: no thumbnail from %s", recording.prefix, path.name)
                jpg = b""
            if jpg:
                key = (f"{recording.prefix}/{THUMBNAILS_PATH}/{recording.rendition}/"
                       f"thumb{recording.thumbnails}.jpg")
                self.s3().put_object(Bucket=recording.bucket, Key=key, Body=jpg, ContentType="image/jpeg")
            recording.thumbnails += 1

    # ------------------------------------------------------------------ playlists and metadata
    def _write_playlists(self, recording: OpenRecording, *, final: bool) -> None:
        with recording.lock:
            if not recording.rendition:
                return
            segments = list(recording.segments)
        lines = ["#EXTM3U", "#EXT-X-VERSION:3",
                 f"#EXT-X-TARGETDURATION:{max([math.ceil(s.duration) for s in segments] or [1])}",
                 "#EXT-X-MEDIA-SEQUENCE:0", f"#EXT-X-PLAYLIST-TYPE:{'VOD' if final else 'EVENT'}"]
        for segment in segments:
            if segment.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            lines += [f"#EXTINF:{segment.duration:.3f},", f"{segment.number}.ts"]
        if final:
            lines.append("#EXT-X-ENDLIST")
        base = f"{recording.prefix}/{HLS_PATH}"
        s3 = self.s3()
        s3.put_object(Bucket=recording.bucket, Key=f"{base}/{recording.rendition}/playlist.m3u8",
                      Body=("\n".join(lines) + "\n").encode(), ContentType=PLAYLIST_TYPE)
        seconds = sum(s.duration for s in segments) or 1.0
        bandwidth = max([int(s.size * 8 / max(s.duration, 0.1)) for s in segments] or
                        [int(sum(s.size for s in segments) * 8 / seconds)])
        resolution = f",RESOLUTION={recording.width}x{recording.height}" if recording.width else ""
        master = ["#EXTM3U", "#EXT-X-INDEPENDENT-SEGMENTS",
                  f"#EXT-X-STREAM-INF:BANDWIDTH={bandwidth}{resolution}",
                  f"{recording.rendition}/playlist.m3u8"]
        s3.put_object(Bucket=recording.bucket, Key=f"{base}/master.m3u8", Body=("\n".join(master) + "\n").encode(),
                      ContentType=PLAYLIST_TYPE)

    def _media(self, recording: OpenRecording, *, ended: bool) -> dict[str, Any]:
        rendition = {"path": recording.rendition or "source", "playlist": "playlist.m3u8"}
        if recording.width:
            rendition.update(resolution_width=recording.width, resolution_height=recording.height)
        hls: dict[str, Any] = {"path": HLS_PATH, "playlist": "master.m3u8", "renditions": [rendition]}
        if ended:
            hls = {"duration_ms": int(round(recording.recorded_seconds * 1000)), **hls}
        media: dict[str, Any] = {"hls": hls}
        if recording.thumbnail_interval:
            thumb = {"path": rendition["path"]}
            if recording.width:
                thumb.update(resolution_width=recording.width, resolution_height=recording.height)
            media["thumbnails"] = {"path": THUMBNAILS_PATH, "renditions": [thumb]}
        return media

    def _put_json(self, recording: OpenRecording, name: str, document: dict) -> None:
        self.s3().put_object(Bucket=recording.bucket, Key=f"{recording.prefix}/{name}",
                             Body=json.dumps(document, indent=2).encode(), ContentType="application/json")

"""`LocalIvs`: the control plane, the RTMP ingest (nginx), the HLS playback
server and the event pump, started and stopped together."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from local.ivs.control_plane import ControlPlane
from local.ivs.events import EventBridgeSink, EventPump, Sink
from local.ivs.ingest import NginxRtmp
from local.ivs.playback import PlaybackServer, playback_url
from local.ivs.realtime import RealtimeState
from local.ivs.recording import Recorder
from local.ivs.state import IvsState

DEFAULT_ACCOUNT_ID = "123456789012"   # moto's default account


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class LocalIvs:
    """The Amazon IVS stand-in.

    ``bus_name``: the EventBridge bus the IVS events go to (None: none). On
    AWS, IVS puts its events on the account's ``"default"`` bus, so pass
    ``"default"`` for fidelity.
    ``emit``: where events go instead of that bus: a callable taking the event
    dict, or a list of them (``emit=captured.append`` in tests).
    ``rtmp_port``: 1935 like any RTMP server (0: a free port); ``http_port``
    (playback) and ``control_port``: 0 picks free ones.
    ``reconnect_window_seconds`` and ``recording_bucket``: the recording
    configuration created at start (``recording_configuration_arn``, for
    channels' ``recordingConfigurationArn``): how long after a stream ends
    "Recording End" waits for a reconnect to join the same recording, and the
    bucket named in the recording events.
    ``record=True``: the stand-in records like IVS auto-record (local.ivs.recording): segments,
    playlists, thumbnails and events/recording-*.json into that bucket through boto3 from the
    environment (the embedded AWS, or moto in a test), written before their events go out.
    ``thumbnail_interval_seconds``: the "local" configuration's thumbnails (None: DISABLED).
    Configurations created with CreateRecordingConfiguration use their own
    ``recordingReconnectWindowSeconds`` (IVS default 0).
    ``playback_public_keys``: PEM public keys accepted for playback tokens in
    addition to those imported with ImportPlaybackKeyPair.
    ``ingest=False`` starts no nginx (control plane and playback only; tests
    can then drive the nginx callbacks themselves).
    """

    def __init__(self, bus_name: str | None, *, rtmp_port: int = 1935, http_port: int = 0, control_port: int = 0,
                 reconnect_window_seconds: float = 60.0, host: str = "127.0.0.1",
                 emit: Sink | Iterable[Sink] | None = None, region: str | None = None,
                 account_id: str = DEFAULT_ACCOUNT_ID, playback_public_keys: Iterable[str] = (),
                 hls_fragment_seconds: float = 1.0, ingest: bool = True,
                 recording_bucket: str = "local-ivs-recordings", record: bool = False,
                 thumbnail_interval_seconds: int | None = 60) -> None:
        self.bus_name = bus_name
        self.host = host
        self.rtmp_port = rtmp_port
        self.http_port = http_port
        self.control_port = control_port
        self.region = region or _region()
        self.account_id = account_id
        self.reconnect_window_seconds = reconnect_window_seconds
        self.hls_fragment_seconds = hls_fragment_seconds
        self.with_ingest = ingest
        self.recording_bucket = recording_bucket
        self.record = record
        self.thumbnail_interval_seconds = thumbnail_interval_seconds
        self.recorder: Recorder | None = None
        self.recording_configuration_arn: str | None = None
        if emit is None:
            sinks: list[Sink] = [EventBridgeSink(bus_name, region=self.region)] if bus_name else []
        elif callable(emit):
            sinks = [emit]
        else:
            sinks = list(emit)
        self.pump = EventPump(sinks, region=self.region, account_id=account_id)
        self._public_keys = list(playback_public_keys)
        self.urls: dict[str, str] = {}
        self.workdir: Path | None = None
        self.state: IvsState | None = None
        self.realtime: RealtimeState | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._watcher: threading.Thread | None = None
        self.control: ControlPlane | None = None
        self.playback: PlaybackServer | None = None
        self.ingest: NginxRtmp | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> dict[str, str]:
        """Starts everything; returns {"control", "rtmp", "playback"} URLs."""
        if self.urls:
            return self.urls
        self.workdir = Path(tempfile.mkdtemp(prefix="local-ivs-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self.urls

    def _start(self) -> None:
        self._stop.clear()
        ingest_box: dict[str, Any] = {"port": self.rtmp_port}
        playback_box: dict[str, Any] = {}
        self.state = IvsState(
            region=self.region, account_id=self.account_id,
            ingest_endpoint=lambda: f"{self.host}:{ingest_box['port']}",
            playback_url=lambda channel_id: playback_url(playback_box["url"], channel_id),
            emit=self._emit,
            composer_active=lambda composition, channel: self.realtime is not None and
            self.realtime.composing_into(composition, channel))
        self.state.extra_public_keys.extend(self._public_keys)
        self.recording_configuration_arn = self.state.create_recording_configuration({
            "name": "local", "destinationConfiguration": {"s3": {"bucketName": self.recording_bucket}},
            "recordingReconnectWindowSeconds": self.reconnect_window_seconds,
            "thumbnailConfiguration": {"recordingMode": "INTERVAL",
                                       "targetIntervalSeconds": int(self.thumbnail_interval_seconds)}
            if self.thumbnail_interval_seconds else {"recordingMode": "DISABLED"},
        })["recordingConfiguration"]["arn"]
        if self.record:
            self.recorder = Recorder(self.state, self.workdir / "hls", region=self.region)
            self.recorder.start()
        self.realtime = RealtimeState(
            region=self.region, account_id=self.account_id, emit=self.pump.emit,
            rtmp_base=lambda: f"rtmp://{self.host}:{ingest_box['port']}/",
            channel_ingest=self._channel_ingest)
        self.pump.start()
        self.control = ControlPlane(self.state, self.pump, host=self.host, port=self.control_port,
                                    on_publish_accepted=self._wake.set, realtime=self.realtime)
        self.control.start()
        self.playback = PlaybackServer(self.state, self.workdir / "hls", host=self.host, port=self.http_port)
        playback_box["url"] = self.playback.start()
        rtmp_url = f"rtmp://{self.host}:{self.rtmp_port}/app/"
        if self.with_ingest:
            self.ingest = NginxRtmp(self.workdir, self.control.callback_url, host=self.host, port=self.rtmp_port,
                                    fragment_seconds=self.hls_fragment_seconds)
            rtmp_url = self.ingest.start()
            ingest_box["port"] = self.ingest.port
        self._watcher = threading.Thread(target=self._watch_segments, name="ivs-hls-watch", daemon=True)
        self._watcher.start()
        self.urls = {"control": self.control.url, "rtmp": rtmp_url, "playback": self.playback.url}

    def stop(self) -> None:
        """Stops nginx (ending live streams: "Stream End"), the servers and the pump; removes the temp dir."""
        self._stop.set()
        self._wake.set()
        if self.ingest is not None:
            self.ingest.stop()
            self.ingest = None
        if self.realtime is not None:
            self.realtime.stop_all()
        if self.state is not None:
            self.state.end_all()   # encoders are gone with nginx; pending recordings are dropped
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None
        for server in (self.playback, self.control):
            if server is not None:
                server.stop()
        self.playback = self.control = None
        if self.recorder is not None:
            self.recorder.stop()
            self.recorder = None
        self.pump.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        self.urls = {}

    def __enter__(self) -> "LocalIvs":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _emit(self, detail_type: str, resources: list, detail: dict) -> None:
        """IVS's events; a recording's objects are written before the event that reports them."""
        if self.recorder is not None:
            self.recorder.observe(detail_type, resources, detail)
        self.pump.emit(detail_type, resources, detail)

    # ------------------------------------------------------------------ conveniences
    @property
    def control_url(self) -> str:
        return self.urls["control"]

    def env(self) -> dict[str, str]:
        """Environment for processes whose boto3 ``ivs`` and ``ivs-realtime`` clients must reach this stand-in."""
        return {"AWS_ENDPOINT_URL_IVS": self.urls["control"], "AWS_ENDPOINT_URL_IVS_REALTIME": self.urls["control"]}

    def _channel_ingest(self, channel_arn: str) -> str | None:
        """The RTMP URL (with the channel's stream key) a composition pushes to; None: no such channel."""
        state = self.state
        if state is None or channel_arn not in state.channels:
            return None
        keys = [k for k in state.stream_keys.values() if k.channel_arn == channel_arn]
        port = self.ingest.port if self.ingest is not None else self.rtmp_port
        return f"rtmp://{self.host}:{port}/app/{keys[0].value}" if keys else ""

    def client(self, **kwargs: Any):
        """A boto3 ivs client for this stand-in."""
        import boto3

        kwargs.setdefault("region_name", self.region)
        kwargs.setdefault("aws_access_key_id", "local")
        kwargs.setdefault("aws_secret_access_key", "local")
        return boto3.session.Session().client("ivs", endpoint_url=self.urls["control"], **kwargs)

    @property
    def events(self) -> list[dict]:
        """The recent events (most recent last), whatever the sinks."""
        return list(self.pump.recent)

    def flush_events(self, timeout: float = 10.0) -> bool:
        return self.pump.flush(timeout)

    def subscribe(self, sink: Callable[[dict], None]) -> None:
        self.pump.sinks.append(sink)

    def metadata(self, channel_arn: str) -> list[dict]:
        return self.state.metadata(channel_arn) if self.state else []

    # ------------------------------------------------------------------ HLS watcher
    def _watch_segments(self) -> None:
        """'Stream Start' once a publishing stream has a segment in its playlist (viewers can play)."""
        while not self._stop.is_set():
            pending = self.state.pending_streams() if self.state else []
            for stream in pending:
                playlist = self.workdir / "hls" / f"{stream.stream_key}.m3u8"
                try:
                    # written since this publish began (a reused key leaves the old playlist behind)
                    has_segment = playlist.stat().st_mtime >= stream.start_time - 1 and ".ts" in playlist.read_text()
                except OSError:
                    has_segment = False
                if has_segment:
                    self.state.segments_available(stream.stream_id)
            self._wake.wait(0.1 if pending else 1.0)
            self._wake.clear()

"""Pure rules of replays and clips (no I/O): IVS's recording metadata, the product timeline on
the recording's clock, and clip playlists over the recorded segments.

- `RecordingEnded` reads IVS's `events/recording-ended.json` (IVS user guide, "Auto-Record to
  Amazon S3": `media.hls` with `duration_ms`, `path`, `playlist` and `renditions[]`;
  `media.thumbnails` with its renditions; `recording_started_at` / `recording_ended_at`).
- `retime` puts the room's marks (a product listed, a flash sale started, a coupon dropped, a
  lottery opened) on the recording's clock: offset = mark time - recording start. A listing made
  before the recording began is on the shelf when the replay begins (clamped to 0); any other
  mark before the start, or after the end, is not in the replay (skipped).
- `clip_playlist` writes an HLS media playlist (VOD, EXT-X-ENDLIST) over the contiguous run of
  recorded segments that covers [start, end): no transcoding. A discontinuity inside the run
  (a reconnect) keeps its EXT-X-DISCONTINUITY; EXT-X-TARGETDURATION is the longest chosen
  segment rounded up (RFC 8216 4.3.3.1); EXT-X-START puts the player at the exact start inside
  the first segment.
"""
from __future__ import annotations

import hashlib
import math
import posixpath
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

import m3u8
from pydantic import BaseModel, ConfigDict, Field

# Marks kept on the timeline, and whether a mark before the recording's start is clamped to 0
# (a state that still holds: the product is on the shelf) or skipped (a moment that is over).
MARK_KINDS = {"listing": True, "flash_sale": False, "coupon_drop": False, "lottery": False}
# A per-product clip runs from its listing to the next listing, at most this long.
PRODUCT_CLIP_MAX_SECONDS = 180.0
PRODUCT_CLIP_MIN_SECONDS = 2.0
CLIP_MIN_SECONDS = 1.0
CLIP_MAX_SECONDS = 30 * 60.0
RECORDING_ENDED = "events/recording-ended.json"
RECORDING_STARTED = "events/recording-started.json"
RECORDING_FAILED = "events/recording-failed.json"


class ClipOutsideRecording(ValueError):
    """The clip's start or end is not inside the recording."""


# ------------------------------------------------------------ IVS's recording metadata

class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class HlsRendition(_Loose):
    path: str
    playlist: str = "playlist.m3u8"
    resolution_width: int | None = None
    resolution_height: int | None = None


class HlsMedia(_Loose):
    duration_ms: int = 0
    path: str = "media/hls"
    playlist: str = "master.m3u8"
    renditions: list[HlsRendition] = Field(default_factory=list)


class ThumbnailRendition(_Loose):
    path: str
    resolution_width: int | None = None
    resolution_height: int | None = None


class Thumbnails(_Loose):
    path: str = "media/thumbnails"
    renditions: list[ThumbnailRendition] = Field(default_factory=list)


class RecordingMedia(_Loose):
    hls: HlsMedia
    thumbnails: Thumbnails | None = None


class RecordingEnded(_Loose):
    """events/recording-ended.json."""

    version: str = "v1"
    channel_arn: str = ""
    recording_started_at: datetime
    recording_ended_at: datetime
    recording_status: str = "RECORDING_ENDED"
    media: RecordingMedia

    def master_key(self, prefix: str) -> str:
        return join(prefix, self.media.hls.path, self.media.hls.playlist)

    def rendition_keys(self, prefix: str) -> list[tuple[HlsRendition, str]]:
        return [(r, join(prefix, self.media.hls.path, r.path, r.playlist)) for r in self.media.hls.renditions]

    def best_rendition(self) -> HlsRendition:
        if not self.media.hls.renditions:
            raise ValueError("the recording lists no HLS rendition")
        return max(self.media.hls.renditions, key=lambda r: (r.resolution_height or 0, r.resolution_width or 0))

    def thumbnail_dir(self, prefix: str) -> str | None:
        """The folder of the largest thumbnail rendition (thumb0.jpg, thumb1.jpg, ...), if any."""
        thumbs = self.media.thumbnails
        if thumbs is None or not thumbs.renditions:
            return None
        best = max(thumbs.renditions, key=lambda r: (r.resolution_height or 0, r.resolution_width or 0))
        return join(prefix, thumbs.path, best.path)


def join(*parts: str) -> str:
    return posixpath.join(*[p.strip("/") for p in parts if p])


def recording_id(prefix: str) -> str:
    """A short stable key for one recording (its S3 prefix, normalised without slashes at the ends)."""
    return hashlib.sha256(prefix.strip("/").encode()).hexdigest()[:32]


def prefix_of_ended_key(key: str) -> str | None:
    """`<prefix>/events/recording-ended.json` -> `<prefix>`; None for any other key."""
    key = key.strip("/")
    suffix = "/" + RECORDING_ENDED
    return key[: -len(suffix)] if key.endswith(suffix) and len(key) > len(suffix) else None


def channel_id_of_prefix(prefix: str) -> str | None:
    """`ivs/v1/<account>/<channel id>/<y>/<m>/<d>/<h>/<min>/<recording id>` -> the channel id."""
    parts = prefix.strip("/").split("/")
    if len(parts) == 10 and parts[0] == "ivs" and parts[1] == "v1":
        return parts[3]
    return None


# ------------------------------------------------------------------------ the timeline

@dataclass(frozen=True)
class Mark:
    """Something that happened in the room at a moment (wall clock, UTC)."""

    at: datetime
    kind: str                 # listing | flash_sale | coupon_drop | lottery
    ref_id: str               # product, flash sale, drop or lottery id
    product_id: str | None = None
    title: str = ""
    price: int | None = None  # fen (listing's live price, flash sale's price)


@dataclass(frozen=True)
class TimelineEntry:
    offset_seconds: float
    kind: str
    ref_id: str
    product_id: str | None
    title: str
    price: int | None

    def as_dict(self) -> dict:
        return {"offset_seconds": self.offset_seconds, "kind": self.kind, "ref_id": self.ref_id,
                "product_id": self.product_id, "title": self.title, "price": self.price}


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def retime(marks: Iterable[Mark], recording_start: datetime, duration_seconds: float) -> list[TimelineEntry]:
    """The marks on the recording's clock, in order (offset, kind, ref); one entry per mark moment
    (the same mark delivered twice appears once)."""
    start = _utc(recording_start)
    seen: set[tuple] = set()
    out: list[TimelineEntry] = []
    for mark in marks:
        clamp = MARK_KINDS.get(mark.kind)
        if clamp is None:
            continue
        offset = (_utc(mark.at) - start).total_seconds()
        if offset > duration_seconds:
            continue
        if offset < 0:
            if not clamp:
                continue
            offset = 0.0
        offset = round(offset, 3)
        key = (offset, mark.kind, mark.ref_id)
        if key in seen:
            continue
        seen.add(key)
        out.append(TimelineEntry(offset, mark.kind, mark.ref_id, mark.product_id, mark.title, mark.price))
    out.sort(key=lambda e: (e.offset_seconds, e.kind, e.ref_id))
    return out


def product_clip_windows(timeline: Iterable[TimelineEntry], duration_seconds: float) -> list[tuple[str, float, float]]:
    """One clip per listed product: (product_id, start, end), from its first listing on the
    replay to the next listing of another product, at most PRODUCT_CLIP_MAX_SECONDS, inside the
    recording; windows shorter than PRODUCT_CLIP_MIN_SECONDS are left out."""
    listings = [e for e in timeline if e.kind == "listing" and e.product_id]
    firsts: list[TimelineEntry] = []
    seen: set[str] = set()
    for entry in listings:
        if entry.product_id not in seen:
            seen.add(entry.product_id)
            firsts.append(entry)
    windows = []
    for i, entry in enumerate(firsts):
        nxt = next((e.offset_seconds for e in firsts[i + 1:] if e.offset_seconds > entry.offset_seconds), None)
        end = min(duration_seconds, entry.offset_seconds + PRODUCT_CLIP_MAX_SECONDS,
                  nxt if nxt is not None else duration_seconds)
        if end - entry.offset_seconds >= PRODUCT_CLIP_MIN_SECONDS:
            windows.append((entry.product_id, entry.offset_seconds, end))
    return windows


# ---------------------------------------------------------------------- clip playlists

@dataclass(frozen=True)
class Segment:
    uri: str              # as written in the recorded playlist (relative to it)
    duration: float
    discontinuity: bool = False


def segments_of(playlist_text: str) -> list[Segment]:
    """The segments of a recorded media playlist (m3u8 parses it)."""
    parsed = m3u8.loads(playlist_text)
    if parsed.is_variant:
        raise ValueError("a multivariant playlist, not a media playlist")
    return [Segment(uri=s.uri, duration=float(s.duration or 0.0), discontinuity=bool(s.discontinuity))
            for s in parsed.segments]


def total_seconds(segments: Iterable[Segment]) -> float:
    return round(sum(s.duration for s in segments), 3)


def check_clip(start: float, end: float, duration_seconds: float) -> None:
    if not (math.isfinite(start) and math.isfinite(end)):
        raise ClipOutsideRecording("start and end must be numbers of seconds")
    if start < 0 or end > duration_seconds + 1e-6 or end <= start:
        raise ClipOutsideRecording(
            f"the clip [{start:g}, {end:g}) s is not inside the recording (0 to {duration_seconds:g} s)")
    if end - start < CLIP_MIN_SECONDS:
        raise ClipOutsideRecording(f"a clip lasts at least {CLIP_MIN_SECONDS:g} s")
    if end - start > CLIP_MAX_SECONDS:
        raise ClipOutsideRecording(f"a clip lasts at most {CLIP_MAX_SECONDS:g} s")


def clip_segments(segments: list[Segment], start: float, end: float) -> tuple[list[Segment], float]:
    """The contiguous run of segments covering [start, end), and where `start` falls inside the
    first of them (seconds)."""
    duration = total_seconds(segments)
    check_clip(start, end, duration)
    chosen: list[Segment] = []
    first_start = 0.0
    t = 0.0
    for segment in segments:
        seg_start, seg_end = t, t + segment.duration
        t = seg_end
        if seg_end <= start + 1e-9 or seg_start >= end - 1e-9:
            continue
        if not chosen:
            first_start = seg_start
        chosen.append(segment)
    if not chosen:
        raise ClipOutsideRecording("no recorded segment in the clip")
    return chosen, round(start - first_start, 3)


def clip_playlist(segments: list[Segment], start: float, end: float, *, uri_prefix: str = "") -> str:
    """An HLS media playlist (VOD) over the recorded segments covering [start, end).

    `uri_prefix` is put before each segment's URI (the path from the clip playlist's folder to the
    recorded playlist's folder, e.g. "../../media/hls/720p30/")."""
    chosen, lead = clip_segments(segments, start, end)
    playlist = m3u8.M3U8()
    playlist.version = 3
    playlist.playlist_type = "vod"
    playlist.media_sequence = 0
    playlist.target_duration = max(1, math.ceil(max(s.duration for s in chosen) - 1e-9))
    if lead > 0:
        playlist.start = m3u8.Start(time_offset=lead, precise="YES")
    for i, segment in enumerate(chosen):
        playlist.segments.append(m3u8.Segment(
            uri=uri_prefix + segment.uri, duration=segment.duration,
            # the clip's own first segment starts it: no discontinuity before it
            discontinuity=segment.discontinuity and i > 0))
    playlist.is_endlist = True
    text = playlist.dumps()
    if lead > 0 and "#EXT-X-START" not in text:   # older m3u8 versions drop `start` on dumps
        text = text.replace("#EXTM3U\n", f"#EXTM3U\n#EXT-X-START:TIME-OFFSET={lead:g},PRECISE=YES\n", 1)
    return text


def master_playlist(variants: list[tuple[str, int | None, int | None, int]]) -> str:
    """A multivariant playlist: (uri, width, height, bandwidth) per rendition."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for uri, width, height, bandwidth in variants:
        attrs = f"BANDWIDTH={max(1, int(bandwidth))}"
        if width and height:
            attrs += f",RESOLUTION={width}x{height}"
        lines += [f"#EXT-X-STREAM-INF:{attrs}", uri]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ replay tokens' lifetimes
#
# Every replay URL carries a token (docs/replays.md, "Private replays"). A test room's replay (seen only
# by its host and operators) gets a short-lived one: the replay's length plus a quarter of an hour to
# start and pause (the CDN checks every segment request, unlike IVS which checks at playback start), at
# most 12 h. A public room's replay gets a day, or its length plus the margin when that is longer. A
# player whose token has run out asks the route again.

PRIVATE_REPLAY_MARGIN_SECONDS = 15 * 60
PRIVATE_REPLAY_MAX_TTL_SECONDS = 12 * 3600
PUBLIC_REPLAY_TTL_SECONDS = 24 * 3600
REPLAY_TTL_CEILING_SECONDS = 48 * 3600      # = media.playback.REPLAY_MAX_TTL_SECONDS


def replay_token_ttl(duration_seconds: float, *, private: bool) -> int:
    """Seconds a replay token lives: enough to play the whole recording once."""
    playing = int(math.ceil(max(0.0, float(duration_seconds)))) + PRIVATE_REPLAY_MARGIN_SECONDS
    if private:
        return min(playing, PRIVATE_REPLAY_MAX_TTL_SECONDS)
    return min(max(PUBLIC_REPLAY_TTL_SECONDS, playing), REPLAY_TTL_CEILING_SECONDS)

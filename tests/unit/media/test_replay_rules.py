"""Pure replay rules: the timeline on the recording's clock (property-tested) and clip playlists
over a real recorded playlist (ffmpeg's HLS muxer, 2 s segments: tests/unit/media/data)."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import m3u8
import pytest
from hypothesis import given
from hypothesis import strategies as st

from livecommerce.media import replay_rules as rules

PLAYLIST = (Path(__file__).parent / "data" / "recorded_playlist.m3u8").read_text()
T0 = datetime(2026, 3, 14, 11, 0, tzinfo=timezone.utc)

marks = st.lists(st.builds(
    rules.Mark,
    at=st.integers(-600_000, 4_000_000).map(lambda ms: T0 + timedelta(milliseconds=ms)),
    kind=st.sampled_from(["listing", "flash_sale", "coupon_drop", "lottery", "poll"]),
    ref_id=st.sampled_from(["a", "b", "c", "d"]),
), max_size=40)


@given(marks, st.floats(1, 3600))
def test_retime_puts_every_kept_mark_inside_the_recording_in_order(given_marks, duration):
    timeline = rules.retime(given_marks, T0, duration)
    offsets = [e.offset_seconds for e in timeline]
    assert offsets == sorted(offsets)
    assert all(0 <= o <= duration for o in offsets)
    assert len({(e.offset_seconds, e.kind, e.ref_id) for e in timeline}) == len(timeline)
    for mark in given_marks:
        offset = round((mark.at - T0).total_seconds(), 3)
        kept = [e for e in timeline if e.kind == mark.kind and e.ref_id == mark.ref_id]
        if mark.kind == "poll" or offset > duration or (offset < 0 and mark.kind != "listing"):
            assert all(e.offset_seconds != offset for e in kept) or offset == 0
        elif offset < 0:
            assert any(e.offset_seconds == 0 for e in kept)           # listed before: on the shelf at 0
        else:
            assert any(e.offset_seconds == offset for e in kept)


def test_retime_clamps_listings_and_skips_moments_outside():
    timeline = rules.retime([
        rules.Mark(T0 - timedelta(seconds=10), "listing", "p0", "p0"),
        rules.Mark(T0 - timedelta(seconds=10), "coupon_drop", "d0"),
        rules.Mark(T0 + timedelta(seconds=30), "flash_sale", "f1", "p0"),
        rules.Mark(T0 + timedelta(seconds=61), "lottery", "l1"),
    ], T0, 60)
    assert [(e.offset_seconds, e.kind) for e in timeline] == [(0.0, "listing"), (30.0, "flash_sale")]


def test_clip_over_the_recorded_playlist():
    segments = rules.segments_of(PLAYLIST)
    assert rules.total_seconds(segments) == 9.0
    text = rules.clip_playlist(segments, 3.0, 7.5, uri_prefix="../../media/hls/240p30/")
    clip = m3u8.loads(text)
    assert [s.uri for s in clip.segments] == [f"../../media/hls/240p30/{i}.ts" for i in (1, 2, 3)]
    assert clip.is_endlist and clip.playlist_type == "vod"
    assert clip.target_duration == 2 and "#EXT-X-START:TIME-OFFSET=1" in text
    whole = m3u8.loads(rules.clip_playlist(segments, 0, 9))
    assert len(whole.segments) == 5 and "#EXT-X-START" not in whole.dumps()


def test_clip_keeps_inner_discontinuities_and_target_duration():
    reconnected = PLAYLIST.replace("#EXTINF:2.000000,\n2.ts", "#EXT-X-DISCONTINUITY\n#EXTINF:2.400000,\n2.ts")
    segments = rules.segments_of(reconnected)
    inner = m3u8.loads(rules.clip_playlist(segments, 1.0, 6.0))
    assert [s.discontinuity for s in inner.segments] == [False, False, True]   # 0-2, 2-4, 4-6.4 s
    assert inner.target_duration == 3                       # 2.4 s rounded up (RFC 8216 4.3.3.1)
    starting = m3u8.loads(rules.clip_playlist(segments, 4.5, 6.0))
    assert starting.segments[0].uri == "2.ts" and not starting.segments[0].discontinuity


@given(st.floats(-100, 100), st.floats(-100, 100))
def test_clip_outside_the_recording_is_refused(start, end):
    segments = rules.segments_of(PLAYLIST)
    inside = 0 <= start and end <= 9 and end - start >= 1
    if inside:
        clip = m3u8.loads(rules.clip_playlist(segments, start, end))
        covered = sum(s.duration for s in clip.segments)
        assert covered >= end - start - 1e-6 and len(clip.segments) <= math.ceil((end - start) / 2) + 1
    else:
        with pytest.raises(rules.ClipOutsideRecording):
            rules.clip_playlist(segments, start, end)


def test_product_clip_windows_and_recording_paths():
    timeline = rules.retime([rules.Mark(T0 + timedelta(seconds=s), "listing", p, p) for s, p in
                             ((0, "a"), (10, "b"), (11, "a"), (400, "c"))], T0, 420)
    assert rules.product_clip_windows(timeline, 420) == [("a", 0.0, 10.0), ("b", 10.0, 190.0),
                                                         ("c", 400.0, 420.0)]
    prefix = "ivs/v1/123456789012/AsXego4U6tnj/2020/6/23/20/12/j8Z9O91ndcVs"
    assert rules.prefix_of_ended_key(prefix + "/events/recording-ended.json") == prefix
    assert rules.prefix_of_ended_key(prefix + "/events/recording-started.json") is None
    assert rules.channel_id_of_prefix(prefix) == "AsXego4U6tnj"
    assert rules.recording_id(prefix) == rules.recording_id("/" + prefix + "/")

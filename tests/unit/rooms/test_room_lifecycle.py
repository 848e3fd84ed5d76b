"""The room lifecycle rules: pure, and independent of the order facts arrive in."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from livecommerce.rooms import lifecycle as lc
from livecommerce.rooms.stream_events import room_id_from_channel_name


def facts(*streams, host_started=None, host_ended=None, recording_ended=None):
    return lc.RoomFacts(host_started_at=host_started, host_ended_at=host_ended, recording_ended_at=recording_ended,
                        streams=tuple(lc.StreamFacts(*s) for s in streams))


def test_basic_path():
    assert lc.derive_status(facts()) == lc.SCHEDULED
    assert lc.derive_status(facts(("s1", "T01", None))) == lc.LIVE
    assert lc.derive_status(facts(("s1", "T01", "T02"))) == lc.INTERRUPTED
    assert lc.derive_status(facts(("s1", "T01", "T02"), ("s2", "T03", None))) == lc.LIVE
    assert lc.derive_status(facts(("s1", "T01", "T02"), recording_ended="T05")) == lc.ENDED
    assert lc.derive_status(facts(("s1", "T01", None), host_ended="T02")) == lc.ENDED


def test_host_start_without_stream_is_live_and_host_end_is_terminal():
    assert lc.derive_status(facts(host_started="T01")) == lc.LIVE
    assert lc.derive_status(facts(("s9", "T09", None), host_started="T01", host_ended="T05")) == lc.ENDED


def test_end_seen_before_start_is_still_a_finished_stream():
    assert lc.derive_status(facts(("s1", None, "T02"))) == lc.INTERRUPTED
    assert lc.derive_status(facts(("s1", "T01", "T02"))) == lc.INTERRUPTED


def test_stale_recording_end_does_not_end_a_resumed_room():
    # Recording of the first session ended at T05, but the host came back at T06.
    assert lc.derive_status(facts(("s1", "T01", "T02"), ("s2", "T06", None), recording_ended="T05")) == lc.LIVE


def test_transition_events():
    assert lc.transition_events(lc.SCHEDULED, lc.LIVE) == ("RoomStarted",)
    assert lc.transition_events(lc.LIVE, lc.INTERRUPTED) == ("StreamInterrupted",)
    assert lc.transition_events(lc.INTERRUPTED, lc.LIVE) == ("StreamResumed",)
    assert lc.transition_events(lc.LIVE, lc.ENDED) == ("RoomEnded",)
    assert lc.transition_events(lc.LIVE, lc.LIVE) == ()


times = st.integers(min_value=0, max_value=99).map(lambda n: f"2026-12-01T20:{n // 60:02d}:{n % 60:02d}Z")
fact = st.one_of(
    st.tuples(st.just("start"), st.sampled_from(["s1", "s2", "s3"]), times),
    st.tuples(st.just("end"), st.sampled_from(["s1", "s2", "s3"]), times),
    st.tuples(st.just("recording_end"), st.just(""), times),
)


def _fold(observed):
    """Record facts as the service does: the first report of each fact wins, repeats change nothing."""
    streams: dict[str, dict[str, str]] = {}
    recording = None
    for kind, stream, at in observed:
        if kind == "recording_end":
            recording = max(recording or "", at)
        else:
            streams.setdefault(stream, {}).setdefault(kind, at)
    return facts(*[(sid, s.get("start"), s.get("end")) for sid, s in sorted(streams.items())],
                 recording_ended=recording)


@given(st.lists(fact, max_size=8), st.randoms())
def test_any_order_and_any_repeats_give_the_same_status(observed, rnd):
    # One report per fact (IVS gives each fact one time); deliveries may repeat and reorder it.
    unique: dict[tuple[str, str], tuple[str, str, str]] = {}
    for kind, stream, at in observed:
        unique.setdefault((kind, stream), (kind, stream, at))
    deliveries = list(unique.values()) * 2
    rnd.shuffle(deliveries)
    assert lc.derive_status(_fold(deliveries)) == lc.derive_status(_fold(list(unique.values())))


def test_room_id_from_channel_name():
    assert room_id_from_channel_name("lc-dev-01JROOMEXAMPLE0000000000") == "01JROOMEXAMPLE0000000000"
    assert room_id_from_channel_name("someone-else") is None
    assert room_id_from_channel_name(None) is None


def test_ivs_events_are_read_through_a_typed_envelope():
    from livecommerce.rooms.stream_events import IvsEvent

    event = IvsEvent.model_validate({
        "id": "e1", "detail-type": "IVS Stream State Change", "time": "2026-12-05T12:00:00Z",
        "resources": ["arn:aws:ivs:ap-northeast-1:123:channel/abc"],
        "detail": {"channel_name": "lc-local-01J", "event_name": "Stream Start", "stream_id": "st-1", "extra": 1}})
    assert (event.detail_type, event.channel_arn, event.detail.event_name, event.detail.stream_id) == \
        ("IVS Stream State Change", "arn:aws:ivs:ap-northeast-1:123:channel/abc", "Stream Start", "st-1")
    bare = IvsEvent.model_validate({"id": "x", "detail-type": "IVS Stream State Change", "detail": {}})
    assert bare.channel_arn is None and bare.detail.channel_name is None
    assert IvsEvent.model_validate({}).detail is None

"""interaction.delivery: the push/poll switch and the feed's paging (order, gaps, no repeats)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from livecommerce.interaction import delivery


def test_the_control_message_points_at_the_feed():
    message = delivery.control_message("R", "poll")
    assert message["type"] == "delivery" and message["mode"] == "poll" and message["feed"] == "/v1/rooms/R/feed"


def page(seq):
    return delivery.Page(seq=seq, at_ms=seq * 200, message={"items": [], "dropped": 0})


def test_a_gap_is_reported_and_nothing_repeats():
    found = delivery.view([page(5), page(3), page(4), page(4)], after=1)
    assert [p.seq for p in found.pages] == [3, 4, 5] and found.next_seq == 5 and found.missed == 1
    assert delivery.view([page(5)], after=5) == delivery.FeedView(pages=[], next_seq=5, missed=0)


@settings(max_examples=100, deadline=None)
@given(st.sets(st.integers(1, 200), max_size=80), st.integers(1, 30))
def test_polling_page_by_page_sees_every_kept_page_once_in_order(kept, limit):
    pages = [page(s) for s in kept]
    seen, after = [], 0
    for _ in range(300):
        found = delivery.view(pages, after=after, limit=limit)
        if not found.pages:
            break
        assert [p.seq for p in found.pages] == sorted(p.seq for p in found.pages)
        seen.extend(p.seq for p in found.pages)
        after = found.next_seq
    assert seen == sorted(kept)


# -- the audience rule (issue 17 outcome 4): hysteresis in count and in time ---------------------

def test_effective_mode_the_setting_wins_then_the_audience_then_push():
    assert delivery.effective("push", "poll") == "push"
    assert delivery.effective("poll", None) == "poll"
    assert delivery.effective(None, "poll") == "poll"
    assert delivery.effective(None, None) == "push"
    assert delivery.effective(None, "garbage") == "push"


def test_follow_switches_at_the_threshold_back_below_eighty_percent_and_waits_a_minute():
    n, minute = 1000, delivery.MIN_SWITCH_GAP_MS
    start = delivery.Audience()
    assert delivery.follow(start, 999, threshold=n, now_ms=0) is start
    polled = delivery.follow(start, 1000, threshold=n, now_ms=5)
    assert polled == delivery.Audience("poll", 5)
    # In poll: 800 (= 0.8 N) keeps poll; 799 goes back, but only a minute after the last switch.
    assert delivery.follow(polled, 800, threshold=n, now_ms=5 + minute) is polled
    assert delivery.follow(polled, 799, threshold=n, now_ms=5 + minute - 1) is polled
    assert delivery.follow(polled, 799, threshold=n, now_ms=5 + minute) == delivery.Audience("push", 5 + minute)
    # Off (threshold 0): back to push, still within the minute rule.
    assert delivery.follow(polled, 10**6, threshold=0, now_ms=5 + minute) == delivery.Audience("push", 5 + minute)
    assert delivery.push_below(1) == 0 and delivery.push_below(5) == 4 and delivery.push_below(3000) == 2400


@settings(max_examples=200, deadline=None)
@given(threshold=st.integers(1, 5000),
       steps=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 30_000)), min_size=1, max_size=120))
def test_follow_never_flaps_and_respects_the_thresholds(threshold, steps):
    """Any sequence of (viewers, ms since the last tick): never two switches within a minute; a switch
    to poll only at >= N viewers, back to push only below push_below(N); and when the room has been at
    a count for a minute or more, the mode is the one the count asks for (no sticky state)."""
    state, now, switches = delivery.Audience(), 0, []
    low = delivery.push_below(threshold)
    for viewers, gap in steps:
        now += gap
        nxt = delivery.follow(state, viewers, threshold=threshold, now_ms=now)
        if nxt != state:
            assert nxt.switched_at_ms == now and nxt.mode != state.mode
            if nxt.mode == "poll":
                assert viewers >= threshold
            else:
                assert viewers < low
            switches.append(now)
        state = nxt
        if state.switched_at_ms is None or now - state.switched_at_ms >= delivery.MIN_SWITCH_GAP_MS:
            if viewers >= threshold:
                assert state.mode == "poll"
            elif viewers < low:
                assert state.mode == "push"
    assert all(b - a >= delivery.MIN_SWITCH_GAP_MS for a, b in zip(switches, switches[1:]))


@settings(max_examples=100, deadline=None)
@given(threshold=st.integers(10, 5000), wobble=st.lists(st.integers(-1, 1), min_size=2, max_size=200))
def test_a_room_wobbling_around_the_threshold_switches_once(threshold, wobble):
    """An audience moving within the band [0.8 N, N] after reaching N stays in poll: one switch in all."""
    state = delivery.follow(delivery.Audience(), threshold, threshold=threshold, now_ms=0)
    low, viewers = delivery.push_below(threshold), threshold
    for i, step in enumerate(wobble, start=1):
        viewers = min(max(viewers + step * max(threshold // 20, 1), low), threshold + 50)
        state = delivery.follow(state, viewers, threshold=threshold, now_ms=i * 5000)
    assert state == delivery.Audience("poll", 0)


# -- the feed cadence by audience (issue 17 outcome 5: the cost goal where the viewer-hours are) ---

def test_the_cadence_is_one_and_a_half_seconds_past_the_switch_and_two_in_large_rooms():
    assert delivery.POLL_ABOVE_VIEWERS == 1000         # the shipped switch (benchmarks/cost.py chose it)
    assert delivery.poll_interval(1_000, None) == 1500
    assert delivery.poll_interval(9_999, 1500) == 1500
    assert delivery.poll_interval(10_000, 1500) == 2000
    assert delivery.poll_interval(10_000, None) == 2000
    # Back to 1.5 s only below 80 % of the slow threshold.
    assert delivery.poll_interval(8_000, 2000) == 2000
    assert delivery.poll_interval(7_999, 2000) == 1500
    # Off: a non-positive threshold, or a "slow" cadence that is not slower.
    assert delivery.poll_interval(10**6, None, slow_from=0) == 1500
    assert delivery.poll_interval(10**6, None, slow_ms=1000) == 1500
    message = delivery.control_message("R", "poll", 2000)
    assert message["poll_interval_ms"] == 2000


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 30_000), min_size=1, max_size=40), st.integers(1, 20_000))
def test_the_cadence_is_a_hysteresis_of_the_audience(counts, slow_from):
    current = None
    for viewers in counts:
        chosen = delivery.poll_interval(viewers, current, slow_from=slow_from)
        assert chosen in (1500, 2000)
        if viewers >= slow_from:
            assert chosen == 2000
        elif viewers < delivery.push_below(slow_from):
            assert chosen == 1500
        else:                     # inside the band: whatever the room had (1.5 s if never decided)
            assert chosen == (current or 1500)
        current = chosen

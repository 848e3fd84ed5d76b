"""The like total inside the batches (push mode): the pure rule and the delivery model
(interaction.density.like_message_due, simulate_push, expected_push_deliveries)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from livecommerce.interaction import density

INTERVAL, IDLE = 200, 2000
times = st.lists(st.integers(min_value=0, max_value=20_000), max_size=80)


def test_a_like_message_is_due_only_after_idle_ms_without_a_delivery():
    assert density.like_message_due(None, 5, IDLE)            # nothing ever went out
    assert density.like_message_due(1000, 3000, IDLE)
    assert not density.like_message_due(1001, 3000, IDLE)


@given(times, times)
@settings(max_examples=300, deadline=None)
def test_deliveries_stay_five_a_second_and_every_total_goes_out_within_idle(danmaku, likes):
    got = density.simulate_push(danmaku, likes, interval_ms=INTERVAL, idle_ms=IDLE)
    stamps = [d.at_ms for d in got]
    assert stamps == sorted(stamps)
    # The density rule counting like messages: one slot for both, at least 200 ms apart.
    assert all(b - a >= INTERVAL for a, b in zip(stamps, stamps[1:]))
    assert all(sum(1 for s in stamps if t <= s < t + 1000) <= 5 for t in stamps)
    # Every danmaku goes out in a batch at or after it arrived (each batch drains the queue).
    batches = [d.at_ms for d in got if d.kind == "batch"]
    assert all(any(t <= b for b in batches) for t in danmaku)
    # Every like total is carried by a delivery at most IDLE after its like arrived.
    for n, t in enumerate(sorted(likes), start=1):
        assert any(t <= d.at_ms <= t + IDLE and d.likes_total >= n for d in got), (n, t, got)
    # Totals carried never go back; a like message only after IDLE without any delivery.
    carried = [d.likes_total for d in got]
    assert carried == sorted(carried)
    for before, d in zip(got, got[1:]):
        if d.kind == "likes":
            assert d.at_ms - before.at_ms >= IDLE


def test_a_busy_room_sends_almost_no_like_messages_and_an_idle_one_one_per_idle():
    busy = density.simulate_push(range(0, 60_000, 100), range(0, 60_000, 50), interval_ms=INTERVAL, idle_ms=IDLE)
    assert [d for d in busy if d.kind == "likes"] == []         # the batches carried every total
    assert len(busy) <= 60 * 5 + 1 and busy[-1].likes_total == 1200
    idle = density.simulate_push([], range(0, 60_000, 50), interval_ms=INTERVAL, idle_ms=IDLE)
    assert all(d.kind == "likes" for d in idle) and 29 <= len(idle) <= 31
    assert idle[-1].likes_total == 1200                         # the last total always goes out


def test_the_model_is_the_rule_on_poisson_arrivals():
    batches, likes = density.expected_push_deliveries(0, 1000 * 12 / 3600, interval_ms=INTERVAL, idle_ms=IDLE)
    assert batches == 0 and 0.40 < likes <= 0.5                 # an idle room: at most one per IDLE
    batches, likes = density.expected_push_deliveries(1000 * 3 / 3600, 1000 * 12 / 3600, interval_ms=INTERVAL,
                                                      idle_ms=IDLE)
    # Danmaku batches as the gate's closed form; like messages only in the quiet spells.
    assert abs(batches - density.expected_batches_per_second(1000 * 3 / 3600, INTERVAL)) < 0.03
    assert likes < 0.25 and batches + likes < 1.1
    assert density.expected_push_deliveries(1, 1, interval_ms=INTERVAL, idle_ms=IDLE) == \
        density.expected_push_deliveries(1, 1, interval_ms=INTERVAL, idle_ms=IDLE)     # deterministic

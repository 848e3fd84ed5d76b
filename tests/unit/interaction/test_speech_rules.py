"""The sender's danmaku rules on one state (interaction.speech): rate window first,
then duplicates; property-tested against a plain replay of the rules."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from livecommerce.interaction import speech

LIMIT, WINDOW, DUP = 3, 5, 30


def send(state, now, key):
    return speech.decide(state, now_s=now, text_key=key, limit=LIMIT, window_seconds=WINDOW, duplicate_seconds=DUP)


def test_rate_then_duplicates_and_the_refused_duplicate_counts():
    state = speech.Speech()
    first = send(state, 100.0, "a" * 24)
    assert first.outcome == speech.OK and first.speech.count == 1
    dup = send(first.speech, 101.0, "a" * 24)
    assert dup.outcome == speech.DUPLICATE and dup.speech.count == 2      # counts, as the counters did
    third = send(dup.speech, 102.0, "b" * 24)
    assert third.outcome == speech.OK
    limited = send(third.speech, 103.0, "c" * 24)
    assert limited.outcome == speech.RATE_LIMITED and limited.speech is None   # nothing written
    # A new window: counting starts over; the duplicate is held for DUP seconds, not longer.
    assert send(third.speech, 105.0, "a" * 24).outcome == speech.DUPLICATE
    assert send(third.speech, 100.0 + DUP + 1, "a" * 24).outcome == speech.OK
    # Expired keys are dropped from the state (it stays small).
    assert "a" * speech.KEY_CHARS not in send(third.speech, 100.0 + DUP + 1, "d" * 24).speech.recent


def test_standing():
    assert speech.standing(banned=True, muted_until=None, now_s=1) == speech.BANNED
    assert speech.standing(banned=False, muted_until=10, now_s=5) == speech.MUTED
    assert speech.standing(banned=False, muted_until=10, now_s=10) == speech.OK


def test_state_round_trips_through_json():
    state = speech.Speech(window=7, count=2, recent={"k": 9})
    assert speech.Speech.from_json(state.to_json()) == state
    assert speech.Speech.from_json(None) == speech.Speech()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 3, allow_nan=False), st.sampled_from("abcd")), max_size=40))
def test_never_more_than_the_limit_per_window_nor_a_text_twice_within_the_window(steps):
    state, now = speech.Speech(), 1000.0
    accepted: list[tuple[float, str]] = []
    attempts: dict[int, int] = {}
    for gap, text in steps:
        now += gap
        verdict = send(state, now, text * 24)
        window = int(now // WINDOW)
        if verdict.outcome == speech.RATE_LIMITED:
            assert attempts.get(window, 0) >= LIMIT
            continue
        attempts[window] = attempts.get(window, 0) + 1
        assert attempts[window] <= LIMIT
        held = [t for t, k in accepted if k == text and int(t) + DUP >= int(now)]
        assert (verdict.outcome == speech.DUPLICATE) == bool(held)
        if verdict.outcome == speech.OK:
            accepted.append((now, text))
        state = verdict.speech

"""The IVS stand-in's channel takeover (co-streaming, docs/costreaming.md): a stage composer
takes a live channel from the host's encoder and the encoder takes it back, in one stream
session (no Stream End, so no stream-drop notice); strangers are still refused; a composer
that leaves holds the session for the next publisher, and the session ends when none comes.
Driven through IvsState's ingest callbacks as nginx-rtmp calls them (the e2e test
tests/e2e/media/test_costream_live.py does the same with real ffmpeg pushes)."""
from __future__ import annotations

import threading

import pytest

from local.ivs.state import IvsError, IvsState
from tests.polling import poll

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _state(active: set[tuple[str, str]], events: list) -> IvsState:
    return IvsState(region="us-east-1", account_id="123456789012", ingest_endpoint=lambda: "127.0.0.1:1",
                    playback_url=lambda cid: "", emit=lambda kind, res, detail: events.append(detail["event_name"]),
                    composer_active=lambda comp, channel: (comp, channel) in active, hold_seconds=0.5,
                    takeover_wait=3.0)


def _drop_when_told(state: IvsState, key: str, client: str) -> threading.Thread:
    """nginx's on_update loop for one publisher: when the stand-in says stop, the encoder goes."""
    def loop() -> None:
        poll(lambda: not state.keep_publishing(key, client), timeout=5, interval=0.05)
        state.publish_done(key, client)
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def test_composer_takes_over_and_the_host_takes_back_in_one_session():
    events: list = []
    active: set = set()
    state = _state(active, events)
    created = state.create_channel({"name": "room"})
    channel, key = created["channel"]["arn"], created["streamKey"]["value"]
    composition = "arn:aws:ivs:us-east-1:123456789012:composition/abc"

    host = state.authorize_publish(key, "1")
    state.segments_available(host.stream_id)
    # Strangers: a second encoder, and a composer of no active composition into this channel.
    with pytest.raises(IvsError, match="already live"):
        state.authorize_publish(key, "2")
    with pytest.raises(IvsError) as refused:
        state.authorize_publish(key, "3", composer=composition)
    assert refused.value.code == "AccessDeniedException"

    active.add((composition, channel))
    dropper = _drop_when_told(state, key, "1")
    taken = state.authorize_publish(key, "4", composer=composition)   # waits until the host is dropped
    dropper.join(5)
    assert taken.stream_id == host.stream_id and taken.client_id == "4" and taken.composer == composition
    assert state.keep_publishing(key, "4")

    # The composer restarts (layout switch): the session waits for it instead of ending.
    state.publish_done(key, "4")
    assert state.live[channel].stream_id == host.stream_id
    state.authorize_publish(key, "5", composer=composition)

    # The host's encoder comes back: it takes the channel from the composer.
    dropper = _drop_when_told(state, key, "5")
    back = state.authorize_publish(key, "6")
    dropper.join(5)
    assert back.stream_id == host.stream_id and back.composer == "" and back.client_id == "6"
    with pytest.raises(IvsError, match="already live"):
        state.authorize_publish(key, "7")     # a plain encoder again: one publisher, as on IVS
    assert events == ["Session Created", "Stream Start"]   # no Stream End through both switches

    # A composer that leaves with nobody after it: the session ends once the hold is over.
    dropper = _drop_when_told(state, key, "6")
    state.authorize_publish(key, "8", composer=composition)
    dropper.join(5)
    state.publish_done(key, "8")
    poll(lambda: channel not in state.live, timeout=5, interval=0.05)
    assert events == ["Session Created", "Stream Start", "Session Ended", "Stream End"]


def test_a_takeover_fails_cleanly_when_the_publisher_does_not_leave():
    events: list = []
    active: set = set()
    state = _state(active, events)
    created = state.create_channel({"name": "room"})
    channel, key = created["channel"]["arn"], created["streamKey"]["value"]
    composition = "arn:aws:ivs:us-east-1:123456789012:composition/xyz"
    active.add((composition, channel))
    state.authorize_publish(key, "1")
    state._takeover_wait = 0.3
    with pytest.raises(IvsError, match="did not leave"):
        state.authorize_publish(key, "2", composer=composition)
    assert state.live[channel].client_id == "1" and state.keep_publishing(key, "1")   # stays on air

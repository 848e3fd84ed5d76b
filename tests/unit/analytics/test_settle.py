"""The post-live report's wait for the store: it computes as soon as the store has caught up with
the room's end (RoomEnded row landed, a beacon received after the end), bounded by
REPORT_SETTLE_SECONDS (1.5 x the Firehose buffer interval); the probe is the same SQL on both
engines (run here in DuckDB over Parquet written by the Firehose stand-in)."""
from __future__ import annotations

import json

from livecommerce.analytics import post_live, queries
from livecommerce.analytics.event_rows import envelope
from local.firehose import LocalFirehose

ROOM = "01JSETTLE00000000000000RM0"
END_MS = 1_777_636_800_000          # 2026-05-01T12:00:00Z


class Clock:
    def __init__(self, at: float) -> None:
        self.at, self.sleeps = at, []

    def now(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.at += seconds


def test_computes_as_soon_as_the_store_caught_up_and_never_after_the_bound():
    ended = END_MS / 1000
    clock = Clock(ended + 0.5)
    probes = iter([False, False, True])
    assert post_live.wait_for_store(ROOM, ended, bound=23, now=clock.now, sleep=clock.sleep,
                                    caught_up=lambda room, at: next(probes)) == "caught_up"
    assert clock.at - ended == 0.5 + 2 * post_live.STORE_POLL_SECONDS          # two polls, not the bound
    clock = Clock(ended + 0.5)
    assert post_live.wait_for_store(ROOM, ended, bound=23, now=clock.now, sleep=clock.sleep,
                                    caught_up=lambda room, at: False) == "bound"
    assert clock.at == ended + 23
    clock = Clock(ended + 100)           # a late delivery of RoomEnded: at most the bound from now
    assert post_live.wait_for_store(ROOM, ended, bound=23, now=clock.now, sleep=clock.sleep,
                                    caught_up=lambda room, at: 1 / 0) == "bound"   # a failing probe waits
    assert clock.at == ended + 100


def test_the_store_probe_sees_the_end_row_and_a_beacon_after_the_end(tmp_path):
    firehose = LocalFirehose(tmp_path, buffer_records=100_000)
    engine = queries.DuckDbEngine(tmp_path)

    def caught_up() -> bool:
        firehose.flush()
        return post_live.store_caught_up(ROOM, END_MS / 1000,
                                         run=lambda name, **p: queries.run(name, engine, **p))

    def beacon(at_ms: int, request: str) -> dict:
        return {"Data": json.dumps({"request_id": request, "seq": 0, "received_at": at_ms, "client_at": at_ms,
                                    "viewer_id": "v1", "kind": "heartbeat", "room_id": ROOM, "play_id": "p",
                                    "playback_token": True, "realtime": True}) + "\n"}

    assert caught_up() is False                                            # nothing yet
    firehose.put_record_batch("beacons", [beacon(END_MS - 20_000, "r1")])
    assert caught_up() is False                                            # beacons, no end row
    firehose.put_record_batch("events", [{"Data": json.dumps(envelope(
        event_id="end-1", detail_type="RoomEnded", source="livecommerce", time="2026-05-01T12:00:00Z",
        detail={"event_id": "end-1", "room_id": ROOM, "host_id": "h1"}))}])
    assert caught_up() is False                                            # the end, but no beacon after it
    firehose.put_record_batch("beacons", [beacon(END_MS + 1_500, "r2")])
    assert caught_up() is True


def test_when_a_report_may_be_stored_get_and_room_ended_alike(monkeypatch):
    """Not before the likes' and danmaku's batching window and one buffer interval have passed (the
    probe is not even asked), then as soon as the probe says the store caught up, and after the
    window and Firehose's bound whatever it says (a failing probe included)."""
    monkeypatch.setenv("REPORT_SETTLE_SECONDS", "23")
    window = post_live.facts_window_seconds()
    assert window == 5                                  # interaction's StoreFacts batching window
    ended = END_MS / 1000
    earliest, latest = post_live.settle_window(ended)
    assert (round(earliest - ended, 3), round(latest - ended, 3)) == (round(window + 23 / 1.5, 3), window + 23)
    asked: list[float] = []

    def probe(answer):
        def caught_up(room: str, at: float) -> bool:
            asked.append(at)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return caught_up
    assert post_live.report_ready(ROOM, ended, now=ended + 1, caught_up=probe(True)) is False
    assert post_live.report_ready(ROOM, ended, now=earliest - 0.1, caught_up=probe(True)) is False
    assert asked == []
    assert post_live.report_ready(ROOM, ended, now=earliest, caught_up=probe(False)) is False
    assert post_live.report_ready(ROOM, ended, now=earliest, caught_up=probe(True)) is True
    assert post_live.report_ready(ROOM, ended, now=latest - 0.1, caught_up=probe(RuntimeError("athena"))) is False
    assert post_live.report_ready(ROOM, ended, now=latest, caught_up=probe(False)) is True
    assert asked == [ended] * 3
    # the RoomEnded path waits for the same moments: no probe before the earliest, the bound at the latest
    clock = Clock(ended + 0.5)
    probes: list[float] = []
    assert post_live.wait_for_store(ROOM, ended, bound=latest - ended, now=clock.now, sleep=clock.sleep,
                                    caught_up=lambda room, at: probes.append(clock.at) or False,
                                    earliest=earliest) == "bound"
    assert probes[0] == earliest and clock.at == latest

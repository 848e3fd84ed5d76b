"""A room's moment (a listing) that reaches the replay's mark store after the replay was published
(issue 13's e2e flake: "the listing missing from the replay timeline"). Events are delivered at least
once and in no order, so the timeline cannot assume its marks are in when Recording End is handled:

- the listing's ProductListed stays in the catalog outbox (its flush failed), the recording ends and
  the replay is published without it, then the sweeper puts it on the bus: the mark keeps the moment
  of the listing (occurred_at is the commit time, not the sweep's) and the ready replay is amended
  (same ready_at, its product clip written, no second ReplayReady);
- a mark saved while the publish runs, between its read of the marks and its write of the replay:
  the publish's re-read after its write takes it in.
Both orderings are built step by step on moto, no timing involved."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from tests.integration.media.test_replays import BUCKET, PLAYLIST, _iso, _recording_end, _room, _run, replay_env  # noqa: F401


def _record_at(session, prefix: str, started: datetime) -> None:
    """What IVS writes under a recording's prefix (one 240p rendition, 9 s, 5 segments), started at `started`."""
    s3 = session.client("s3")
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/media/hls/240p30/playlist.m3u8", Body=PLAYLIST.encode())
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/media/hls/master.m3u8", Body=(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x240\n240p30/playlist.m3u8\n").encode())
    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/media/hls/240p30/{i}.ts", Body=b"\x47" * 188)
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}/events/recording-ended.json", Body=json.dumps({
        "version": "v1", "channel_arn": "arn:aws:ivs:us-east-1:123456789012:channel/abcd1234",
        "recording_started_at": _iso(started), "recording_ended_at": _iso(started + timedelta(seconds=9)),
        "recording_status": "RECORDING_ENDED",
        "media": {"hls": {"duration_ms": 9000, "path": "media/hls", "playlist": "master.m3u8",
                          "renditions": [{"path": "240p30", "playlist": "playlist.m3u8",
                                          "resolution_width": 320, "resolution_height": 240}]}}}).encode())


def _publish(session, room_id: str, prefix: str) -> dict:
    from livecommerce.media import replay_rules
    from local.lambda_runtime import invoke

    assert invoke("replay_tasks", _recording_end(room_id, prefix)) == {"outcome": "started"}
    execution, events = _run(session, f"rec-{replay_rules.recording_id(prefix)}-ivs")
    assert execution["status"] == "SUCCEEDED", [str(e)[:900] for e in events if e["type"] == "TaskFailed"]
    return json.loads(execution["output"])["publish"]["result"]


def test_a_listing_published_late_by_the_sweeper_amends_the_ready_replay(replay_env, api, tokens_for,
                                                                         monkeypatch):
    from livecommerce import catalog
    from livecommerce.media import replays
    from livecommerce.shared import events
    from local.event_delivery import drain_queue
    from local.resources import LocalNames, delivery_queue_name

    sqs = replay_env.client("sqs")
    marks_queue = sqs.get_queue_url(QueueName=delivery_queue_name(LocalNames(), "ReplayMarks"))["QueueUrl"]

    host, viewer = tokens_for("host-1"), tokens_for("viewer-1")
    room_id = _room(api, tokens_for)
    product = api.call("POST", "/v1/products", token=tokens_for("operator-1"), json_body={
        "name": "回放商品", "list_price": 1000, "stock": 100})
    assert product.status == 201, product.body
    product_id = product.json()["id"]
    assert api.call("PUT", f"/v1/rooms/{room_id}/products", token=host, json_body={"items": [
        {"product_id": product_id, "live_price": 900, "live_stock": 50}]}).status == 200

    announced: list[str] = []
    real_announce = replays.publish_event
    monkeypatch.setattr(replays, "publish_event", lambda event, **kw: (announced.append(event.room_id),
                                                                        real_announce(event, **kw)))
    class BusDown(Exception):
        pass

    def refuse(*args, **kw):
        raise BusDown("the bus is not answering")

    # The listing's flush fails, whichever way it puts its events (the outbox flushes with
    # `put_many`, one PutEvents per 10; `put` is one event).
    bus = events.ports.get().bus
    with monkeypatch.context() as down:
        for method in ("put", "put_many"):
            down.setattr(bus, method, refuse)
        listed_at = datetime.now(timezone.utc)
        listing = api.call("POST", f"/v1/rooms/{room_id}/products/{product_id}/listing", token=host)
    assert listing.status == 200, listing.body                    # committed; its event stays in the outbox

    prefix = f"ivs/v1/123456789012/abcd1234/2026/3/14/11/0/recLATE{room_id[-5:]}"
    _record_at(replay_env, prefix, listed_at - timedelta(seconds=3))
    first = _publish(replay_env, room_id, prefix)
    assert first["outcome"] == "ready" and first["timeline_entries"] == 0     # the ordering: no listing yet
    before = api.call("GET", f"/v1/rooms/{room_id}/replay", token=viewer).json()
    assert before["timeline"] == []

    class Later(datetime):                                       # the sweeper runs a minute later
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(seconds=60)

    monkeypatch.setattr(events, "datetime", Later)
    assert catalog.sweep_outbox(older_than_seconds=0) >= 1       # past the recording's end
    monkeypatch.setattr(events, "datetime", datetime)
    assert drain_queue(sqs, marks_queue, "replay_tasks") == 1    # ProductListed -> replay_tasks (ReplayMarks)

    after = api.call("GET", f"/v1/rooms/{room_id}/replay", token=viewer).json()
    listed = [e for e in after["timeline"] if e["kind"] == "listing"]
    assert [(e["product_id"], e["price"]) for e in listed] == [(product_id, 900)]
    assert abs(listed[0]["offset_seconds"] - 3.0) < 1.0, listed   # the listing's moment, not the sweep's
    assert after["ready_at"] == before["ready_at"] and after["recording_ended_at"] == before["recording_ended_at"]
    clips = api.call("GET", f"/v1/rooms/{room_id}/replay/clips", token=viewer).json()["items"]
    assert [c["product_id"] for c in clips] == [product_id]
    assert announced == [room_id]                                # one ReplayReady


def test_a_mark_saved_while_the_replay_is_being_published_is_on_it(replay_env, api, tokens_for, monkeypatch):
    from livecommerce.media import replays
    from local.lambda_runtime import invoke

    room_id = _room(api, tokens_for)
    started = datetime(2026, 3, 14, 11, 0, 0, tzinfo=timezone.utc)
    prefix = f"ivs/v1/123456789012/abcd1234/2026/3/14/11/0/recMIDW{room_id[-5:]}"
    _record_at(replay_env, prefix, started)
    in_between = {"detail-type": "ProductListed", "source": "livecommerce", "time": _iso(started),
                  "detail": {"room_id": room_id, "product_id": "p-mid", "name": "围巾", "live_price": 990,
                             "stock_left": 5, "occurred_at": _iso(started + timedelta(seconds=4))}}
    real_marks_of, reads = replays.marks_of, []

    def marks_of(room):
        marks = real_marks_of(room)
        reads.append(len(marks))
        if len(reads) == 1:              # the publish has read the marks; the mark lands before its write
            assert invoke("replay_tasks", in_between) == {"outcome": "recorded"}   # no replay yet to amend
        return marks

    monkeypatch.setattr(replays, "marks_of", marks_of)
    result = _publish(replay_env, room_id, prefix)
    assert result["outcome"] == "ready" and reads[0] == 0
    replay = api.call("GET", f"/v1/rooms/{room_id}/replay", token=tokens_for("viewer-1")).json()
    assert [(e["offset_seconds"], e["ref_id"]) for e in replay["timeline"]] == [(4.0, "p-mid")]
    assert result["timeline_entries"] == 1 and result["clips"] == 1

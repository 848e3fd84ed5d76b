"""Keyword-lottery entrants (found from danmaku at the close) reach the analytics store as
LotteryEntered rows (via "danmaku"), so analytics' lottery_only tag sees them: real danmaku
through the API, the real close step, boto3's PutRecordBatch into the Firehose stand-in served
over Firehose's JSON protocol, read back with DuckDB."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.integration.commerce_fixtures import parse_time

pytestmark = pytest.mark.integration


def test_keyword_entrants_land_in_the_store_once_per_entrant(shop, clock, seeded, tmp_path, monkeypatch):
    from livecommerce.analytics import queries, room_scope
    from livecommerce.engagement import service
    from livecommerce.shared import aws
    from local.firehose import LocalFirehose, serve
    from local.resources import LocalNames

    names = LocalNames()
    firehose = LocalFirehose(tmp_path, buffer_records=100_000)
    server, url = serve(firehose, "127.0.0.1", 0, prefix=names.prefix)
    monkeypatch.setenv("AWS_ENDPOINT_URL_FIREHOSE", url)
    monkeypatch.setenv("ANALYTICS_EVENTS_STREAM", f"{names.prefix}-analytics-events")
    aws.reset_clients()
    clock.patch(service)
    try:
        room_id = shop.room()
        shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/start", "host-1"))
        lottery = shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/lotteries", "host-1", {
            "kind": "keyword", "keyword": "扣1", "prize": {"kind": "points", "name": "10 积分", "points": 10},
            "winners": 1, "duration_seconds": 60}), 201)
        for user, text in (("viewer-1", "扣1"), ("viewer-2", "扣1"), ("viewer-3", "好看")):
            shop.ok(shop.call("POST", f"/v1/rooms/{room_id}/danmaku", user, {"text": text}))
        clock.set(parse_time(lottery["closes_at"]) + timedelta(seconds=1))
        assert service.run_step(lottery["id"], clock.now())[0] == "close"
        assert shop.ok(shop.call("GET", f"/v1/lotteries/{lottery['id']}"))["entrants"] == 2
        firehose.flush()
        assert firehose.failed == []
        rows = queries.DuckDbEngine(tmp_path).execute(
            "SELECT event_id, user_id, room_id, source, detail FROM events WHERE type = 'LotteryEntered' "
            "ORDER BY user_id", [])
        assert [(r["user_id"], r["room_id"], r["source"]) for r in rows] == [
            ("viewer-1", room_id, "livecommerce.engagement"), ("viewer-2", room_id, "livecommerce.engagement")]
        assert {(json.loads(r["detail"])["lottery_id"], json.loads(r["detail"])["via"]) for r in rows} == {
            (lottery["id"], "danmaku")}
        # a close that runs again (a crash before its commit) says the same ids: read once
        item = service.repository.get_lottery(lottery["id"], consistent=True)
        service._keyword_entrants(item)
        firehose.flush()
        engine = queries.DuckDbEngine(tmp_path)
        assert engine.execute("SELECT count(*) AS n FROM events WHERE type = 'LotteryEntered'", [])[0]["n"] == 4
        with room_scope.open(room_id, engine) as scope:
            counted = {r["type"]: r for r in scope.run("report_events", host_id="host-1")}
        assert counted["LotteryEntered"]["raw_count"] == 2 and counted["LotteryEntered"]["accepted_users"] == 2
    finally:
        server.shutdown()
        aws.reset_clients()

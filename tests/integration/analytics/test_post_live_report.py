"""The post-live report computed and stored on RoomEnded (moto, DuckDB over the store), read at
once by GET /stats, and ViewerWatchTimes published once per room."""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone

import pytest

from benchmarks.report_traffic import synthesize
from livecommerce.analytics import queries
from livecommerce.analytics.events import ViewerWatchTimes

pytestmark = pytest.mark.integration


def test_room_end_computes_stores_and_publishes_watch_times_once(api, tokens_for, ivs_env, tmp_path, seeded,
                                                                 monkeypatch):
    from livecommerce.analytics.event_log import events_for
    from local.event_delivery import drain_queue
    from local.resources import LocalNames, delivery_queue_name

    sqs = seeded.client("sqs")

    def drain(*_):                           # only this context's subscriptions (the others have their tests)
        for name, function in (("PostLiveReport", "post_live_report"), ("EventLog", "domain_events")):
            url = sqs.get_queue_url(QueueName=delivery_queue_name(LocalNames(), name))["QueueUrl"]
            drain_queue(sqs, url, function)

    monkeypatch.setenv("REPORT_SETTLE_SECONDS", "0")
    host = tokens_for("host-1")
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    room_id = api.call("POST", "/v1/rooms", token=host, json_body={"title": "结束即报表", "scheduled_start": start}
                       ).json()["id"]
    truth = synthesize(tmp_path, viewers=1200, minutes=20, room_id=room_id, host_id="host-1")
    queries.use_engine(queries.DuckDbEngine(tmp_path))
    try:
        assert api.call("POST", f"/v1/rooms/{room_id}/start", token=host).status == 200
        assert api.call("POST", f"/v1/rooms/{room_id}/end", token=host).status == 200
        s3 = seeded.client("s3")
        bucket = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("-exports")][0]
        drain(seeded, LocalNames())          # RoomEnded -> post_live_report; ViewerWatchTimes -> the bus
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"reports/{room_id}/")["Contents"]}
        stored_object = s3.get_object(Bucket=bucket, Key=f"reports/{room_id}/report.json")
        run = stored_object["Metadata"]["computation"]          # the prefix of the report's own parts
        assert keys == {f"reports/{room_id}/{n}" for n in ("report.json", f"{run}/viewers.json.gz",
                                                          f"{run}/report.xlsx", "watch-times.json")}
        stored = json.loads(stored_object["Body"].read())
        assert stored["summary"]["unique_viewers"] == truth["unique_viewers"] and stored["title"] == "结束即报表"

        # GET answers from the stored report (the same computation, not a new one)
        body = api.call("GET", f"/v1/rooms/{room_id}/stats", token=host).json()
        assert body["computed_at"] == stored["computed_at"] and body["summary"]["gmv"] == truth["gmv"]
        export = api.call("GET", f"/v1/rooms/{room_id}/stats.xlsx", token=host)
        assert export.status == 303 and f"reports/{room_id}/{run}/report.xlsx" in export.headers["Location"]
        rows = json.loads(gzip.decompress(
            s3.get_object(Bucket=bucket, Key=f"reports/{room_id}/{run}/viewers.json.gz")["Body"].read()))
        assert len(rows) == truth["unique_viewers"] and not any("phone" in r or "address" in r for r in rows)

        # products side by side over the host's sessions (?products=), against the generator's truth
        a, b = sorted(truth["products"])[:2]
        compared = api.call("GET", f"/v1/stats/compare?products={a},{b}", token=host)
        assert compared.status == 200, compared.body
        first, second = compared.json()["products"]
        assert (first["product_id"], first["gmv"], first["units"], first["orders"]) == (
            a, truth["products"][a]["gmv"], truth["products"][a]["units"], truth["products"][a]["orders"])
        assert compared.json()["differences"][0]["gmv"] == truth["products"][b]["gmv"] - truth["products"][a]["gmv"]
        assert compared.json()["rooms"] == []
        for query, code in ((f"products={a},{b}&rooms={room_id},{room_id}", "invalid_comparison"), ("", "invalid_comparison"),
                            (f"products={a},{a}", "invalid_products"), ("products=x,y", "invalid_products")):
            refused = api.call("GET", f"/v1/stats/compare?{query}", token=host)
            assert refused.status == 422 and refused.json()["code"] == code, (query, refused.body)
        other = api.call("GET", f"/v1/stats/compare?products={a},{b}", token=tokens_for("host-2")).json()
        assert [p["sessions"] for p in other["products"]] == [0, 0]     # another host sees none of these sessions

        # ViewerWatchTimes: accepted viewers only, every viewer once, chunks of at most 500
        drain(seeded, LocalNames())
        published = [e for e in events_for(f"ROOM#{room_id}") if e["detail_type"] == "ViewerWatchTimes"]
        chunks = [ViewerWatchTimes.parse(e["detail"]) for e in published]
        assert [c.chunk for c in sorted(chunks, key=lambda c: c.chunk)] == list(range(1, len(chunks) + 1))
        assert all(c.chunks == len(chunks) and len(c.viewers) <= 500 for c in chunks) and len(chunks) >= 3
        seconds = {v.user_id: v.seconds for c in chunks for v in c.viewers}
        assert seconds == {u: s for u, s in truth["watch"].items() if s > 0}

        # a redelivered RoomEnded recomputes nothing new on the bus
        from local.lambda_runtime import invoke

        ended = [e for e in events_for(f"ROOM#{room_id}") if e["detail_type"] == "RoomEnded"][0]
        again = invoke("post_live_report", {"id": "redelivery", "detail-type": "RoomEnded", "source": "livecommerce",
                                            "detail": ended["detail"]})
        assert again["watch_time_events"] == 0
        drain(seeded, LocalNames())
        assert len([e for e in events_for(f"ROOM#{room_id}") if e["detail_type"] == "ViewerWatchTimes"]) == len(chunks)
    finally:
        queries.use_engine(None)

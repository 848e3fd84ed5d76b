"""GET /stats of an ended room whose report is not stored yet (moto, DuckDB over the store):
409 report_not_ready with a Retry-After while the store may still be catching up with the end
(nothing computed, nothing stored, no ViewerWatchTimes); once it may, the GET computes and stores the
report once. A RoomEnded computation racing the GET stores no second report (S3 conditional write):
the later one reads the first back and publishes nothing more."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from benchmarks.report_traffic import synthesize
from livecommerce.analytics import post_live, queries, report_store

pytestmark = pytest.mark.integration


def test_an_early_get_waits_and_one_report_is_stored(api, tokens_for, ivs_env, tmp_path, seeded, monkeypatch):
    host = tokens_for("host-1")
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    room_id = api.call("POST", "/v1/rooms", token=host, json_body={"title": "稍候", "scheduled_start": start}
                       ).json()["id"]
    truth = synthesize(tmp_path, viewers=40, minutes=3, room_id=room_id, host_id="host-1")
    queries.use_engine(queries.DuckDbEngine(tmp_path))
    s3 = seeded.client("s3")
    bucket = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("-exports")][0]

    def stored_keys() -> set[str]:
        return {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"reports/{room_id}/").get("Contents", [])}
    try:
        assert api.call("POST", f"/v1/rooms/{room_id}/start", token=host).status == 200
        assert api.call("POST", f"/v1/rooms/{room_id}/end", token=host).status == 200

        # right after the end, with Firehose's bound ahead (the store has no RoomEnded row: not caught up)
        monkeypatch.setenv("REPORT_SETTLE_SECONDS", "23")
        for path in ("stats", "viewers", "stats.xlsx"):
            early = api.call("GET", f"/v1/rooms/{room_id}/{path}", token=host)
            assert early.status == 409, (path, early.body)
            assert early.json()["code"] == "report_not_ready"
            assert early.headers["Content-Type"].startswith("application/problem+json")
            assert 1 <= int(early.headers["Retry-After"]) <= 2
        assert stored_keys() == set()                       # nothing computed early, nothing published

        # the bound has passed (no bound at all): the GET computes and stores the report, once
        monkeypatch.setenv("REPORT_SETTLE_SECONDS", "0")
        first = api.call("GET", f"/v1/rooms/{room_id}/stats", token=host)
        assert first.status == 200, first.body
        unique = first.json()["summary"]["unique_viewers"]
        assert unique > 0 and first.json()["summary"]["gmv"] == truth["gmv"]
        assert f"reports/{room_id}/report.json" in stored_keys() and f"reports/{room_id}/watch-times.json" in stored_keys()
        again = api.call("GET", f"/v1/rooms/{room_id}/stats", token=host).json()
        assert again["computed_at"] == first.json()["computed_at"]

        # the RoomEnded path racing it: it found no report when it looked, computed its own, and lost
        # the conditional write: it answers the stored report and publishes no second ViewerWatchTimes
        real_load, calls = report_store.load, []

        def late_load(room: str):
            calls.append(room)
            return None if len(calls) == 1 else real_load(room)
        monkeypatch.setattr(report_store, "load", late_load)
        report, viewers, published = post_live.compute_and_store(room_id, "host-1", title="稍候")
        assert len(calls) == 2 and published == 0
        assert report.computed_at == first.json()["computed_at"] and len(viewers) == unique
        monkeypatch.setattr(report_store, "load", real_load)
        assert api.call("GET", f"/v1/rooms/{room_id}/stats", token=host).json()["computed_at"] == report.computed_at
        reports_stored = [k for k in stored_keys() if k.endswith("/report.json")]
        assert reports_stored == [f"reports/{room_id}/report.json"]
    finally:
        queries.use_engine(None)

"""The post-live report routes through the real handler on moto, over a synthesized session in
the analytics store (DuckDB on Parquet, as the local stack runs them)."""
from __future__ import annotations

import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

from benchmarks.report_traffic import synthesize
from livecommerce.analytics import queries

pytestmark = pytest.mark.integration


@pytest.fixture
def session(api, tokens_for, ivs_env, tmp_path):
    start = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    created = api.call("POST", "/v1/rooms", token=tokens_for("host-1"),
                       json_body={"title": "报表", "topic": "t", "scheduled_start": start,
                                  "cover": "https://img.example.com/c.jpg"})
    assert created.status == 201, created.body
    room_id = created.json()["id"]
    truth = synthesize(tmp_path, viewers=300, minutes=30, room_id=room_id, host_id="host-1")
    queries.use_engine(queries.DuckDbEngine(tmp_path))
    yield room_id, truth
    queries.use_engine(None)


def test_report_viewers_export_and_refusals(api, tokens_for, session, seeded):
    room_id, truth = session
    host = tokens_for("host-1")
    report = api.call("GET", f"/v1/rooms/{room_id}/stats", token=host)
    assert report.status == 200, report.body
    body = report.json()
    assert body["summary"]["unique_viewers"] == truth["unique_viewers"]
    assert body["summary"]["gmv"] == truth["gmv"] and body["summary"]["paid_orders"] == truth["paid_orders"]
    assert body["traffic"]["excluded_viewers_by_reason"] == truth["excluded"]
    assert body["funnel"]["payers"] == truth["payers"]
    # operators read it too
    assert api.call("GET", f"/v1/rooms/{room_id}/stats", token=tokens_for("operator-1")).status == 200

    # viewers, paged with signed cursors, filtered by tag
    seen, cursor = [], None
    while True:
        path = f"/v1/rooms/{room_id}/viewers?tag=buyer&limit=40" + (f"&cursor={cursor}" if cursor else "")
        page = api.call("GET", path, token=host)
        assert page.status == 200, page.body
        seen += page.json()["items"]
        cursor = page.json()["cursor"]
        if not cursor:
            break
    assert len(seen) == truth["payers"] and all("buyer" in v["tags"] for v in seen)
    assert len({v["user_id"] for v in seen}) == len(seen)
    assert not any(k in v for v in seen for k in ("phone", "address"))
    first = api.call("GET", f"/v1/rooms/{room_id}/viewers?limit=5", token=host).json()["cursor"]
    # a cursor of the unfiltered list does not serve the filtered one, nor another user
    assert api.call("GET", f"/v1/rooms/{room_id}/viewers?limit=5&tag=buyer&cursor={first}", token=host).status == 422
    assert api.call("GET", f"/v1/rooms/{room_id}/viewers?limit=5&cursor={first}",
                    token=tokens_for("operator-1")).json()["code"] == "invalid_cursor"
    bad_tag = api.call("GET", f"/v1/rooms/{room_id}/viewers?tag=whale", token=host)
    assert bad_tag.status == 422 and bad_tag.json()["code"] == "unknown_tag"

    # the workbook goes through a presigned link
    export = api.call("GET", f"/v1/rooms/{room_id}/stats.xlsx", token=host)
    assert export.status == 303, export.body
    s3 = seeded.client("s3")
    bucket = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].endswith("-exports")][0]
    [key] = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"exports/{room_id}/")["Contents"]]
    assert key.endswith(".xlsx") and urllib.parse.quote(key) in export.headers["Location"]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read()[:2] == b"PK"
    # the web dashboard asks for the link as JSON (a page's fetch would follow the 303 itself)
    as_json = api.call("GET", f"/v1/rooms/{room_id}/stats.xlsx?redirect=false", token=host)
    assert as_json.status == 200 and "Location" not in as_json.headers, as_json.body
    link = as_json.json()
    assert f"/exports/{room_id}/" in link["url"] and ".xlsx?" in link["url"] and link["expires_in"] > 0
    assert api.call("GET", f"/v1/rooms/{room_id}/stats.xlsx?redirect=maybe", token=host).status == 422

    # another host's room, a viewer, and bad comparisons: problems, never a 500
    for path in (f"/v1/rooms/{room_id}/stats", f"/v1/rooms/{room_id}/viewers", f"/v1/rooms/{room_id}/stats.xlsx"):
        assert api.call("GET", path, token=tokens_for("host-2")).status == 403
        assert api.call("GET", path, token=tokens_for("viewer-1")).status == 403
    for rooms in ("", room_id, f"{room_id},{room_id}", "a,b", ",".join([room_id] * 11)):
        answer = api.call("GET", f"/v1/stats/compare?rooms={rooms}", token=host)
        assert answer.status == 422, (rooms, answer.body)
    assert api.call("GET", f"/v1/stats/compare?rooms={room_id},01J00000000000000000000000",
                    token=host).status == 404

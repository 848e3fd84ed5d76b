"""Points for taking part (issue 14, outcome 5) on moto: watch time (analytics' ViewerWatchTimes)
and shares (marketing's ShareArrived) through the engagement_events consumer, quiz answers
through the quiz close, lottery entries through engagement.points; the daily caps per rule and
per viewer hold, under redelivery and from many threads, and everything lands in the ledger."""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.integration
START = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()


def _ok(api, method, path, token, body=None):
    response = api.call(method, path, token=token, json_body=body)
    assert response.status in (200, 201), (method, path, response.status, response.body)
    return response.json()


def _delivery(model, **fields) -> dict:
    detail = {**model(**fields).detail(), "event_id": str(uuid.uuid4())}
    return {"id": str(uuid.uuid4()), "detail-type": model.detail_type, "source": "livecommerce", "detail": detail}


def test_points_for_taking_part_are_capped_per_rule_and_viewer_and_land_in_the_ledger(api, tokens_for, ivs_env):
    from livecommerce.analytics.events import ViewerWatchTimes
    from livecommerce.engagement import participation, points
    from livecommerce.marketing.events import ShareArrived
    from local.lambda_runtime import invoke

    def balance(user: str) -> dict:
        return _ok(api, "GET", "/v1/me/points", tokens_for(user))

    room = _ok(api, "POST", "/v1/rooms", tokens_for("host-1"), {"title": "积分专场", "scheduled_start": START})["id"]
    watched = _delivery(ViewerWatchTimes, room_id=room, host_id="host-1", chunk=1, chunks=1,
                        viewers=[{"user_id": "viewer-1", "seconds": 3600}, {"user_id": "viewer-2", "seconds": 99_999},
                                 {"user_id": "viewer-3", "seconds": 120}])
    assert invoke("engagement_events", watched)["points"] == 12 + 60          # viewer-2 capped at 60
    assert invoke("engagement_events", watched)["points"] == 12 + 60          # a redelivery: the same decisions
    one = balance("viewer-1")
    assert one["balance"] == 12 and [(e["reason"], e["delta"]) for e in one["ledger"]] == [("watch_time", 12)]
    assert balance("viewer-2")["balance"] == 60 and balance("viewer-3")["balance"] == 0

    # Shares: 5 points per viewer arriving through viewer-1's code, 30 a day; a self-arrival earns nothing.
    for n in range(8):
        invoke("engagement_events", _delivery(ShareArrived, room_id=room, code="ABCDEFGH23", sharer_id="viewer-1",
                                              invitee_id=f"fan-{n}"))
    invoke("engagement_events", _delivery(ShareArrived, room_id=room, code="ABCDEFGH23", sharer_id="viewer-1",
                                          invitee_id="viewer-1"))
    assert balance("viewer-1")["balance"] == 12 + 30

    # A quiz's right answer goes through the same caps: viewer-2 has 60 today, 150 a day in all.
    host = tokens_for("host-1")
    qid = _ok(api, "POST", f"/v1/rooms/{room}/quizzes", host,
              {"question": "今天的福利款?", "options": ["A", "B"], "answer": 1, "points": 100, "duration_seconds": 30})["id"]
    _ok(api, "POST", f"/v1/quizzes/{qid}/answers", tokens_for("viewer-2"), {"choice": 1})
    _ok(api, "POST", f"/v1/quizzes/{qid}/close", host)
    two = balance("viewer-2")
    assert two["balance"] == 150 and two["ledger"][0]["reason"] == "quiz_answer" and two["ledger"][0]["delta"] == 90
    assert points.award("viewer-2", "lottery_entry", 2, ref="lottery:L-late") == 0         # the viewer's day is full

    # Lottery entries: 2 points each, 10 a day; the next day (China time) starts afresh.
    granted = [points.award_lottery_entry(f"L{n}", "viewer-3") for n in range(6)]
    assert granted == [2, 2, 2, 2, 2, 0] and balance("viewer-3")["balance"] == 10
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    assert points.award_lottery_entry("L-next", "viewer-3", now=tomorrow) == 2

    # Many threads, one viewer, distinct shares: the share cap holds exactly.
    results: list[int] = []
    lock = threading.Lock()

    def share(n: int) -> None:
        got = points.award_share_arrival(room, "viewer-4", f"crowd-{n}")
        with lock:
            results.append(got)

    threads = [threading.Thread(target=share, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == participation.RULES["share"].daily_cap and balance("viewer-4")["balance"] == 30

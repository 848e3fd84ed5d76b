"""Concurrent requests on the local stack each see only their own request, as in separate
Lambda containers. Powertools keeps the current event on the router class and the Logger's
correlation id on one shared logger: containers running as threads of one process answered
with another request's caller, body or correlation id under load (issue 10: a mismatched
correlation id; likes accepted from another request's count)."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from stackproc import request

pytestmark = pytest.mark.e2e
VIEWERS = [f"twin-viewer-{i}" for i in range(8)]
ROUNDS = 6


def _call(url: str, method: str, path: str, token: str | None = None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"null")


def test_concurrent_requests_each_see_their_own_event(stack):
    url, _, _ = stack
    tokens = {}
    for user in VIEWERS:
        status, _, body = request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": user})
        assert status == 200, body
        tokens[user] = body["token"]
    host = request("POST", f"{url}/v1/auth/login", {"provider": "dev", "code": "host-1"})[2]["token"]
    start = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    status, _, room = request("POST", f"{url}/v1/rooms", {"title": "并发", "scheduled_start": start}, token=host)
    assert status == 201, room

    # Each call carries something only it has: the caller (/v1/me), the path (an unknown room,
    # whose 404 problem names the request's correlation id) or the body (a like count).
    calls = []
    for round_ in range(ROUNDS):
        for index, user in enumerate(VIEWERS):
            calls.append(("me", user, None))
            calls.append(("missing", user, f"01J{round_:02d}{index:02d}ZZZZZZZZZZZZZZZZZZZ"[:26]))
            calls.append(("likes", user, 1 + (index * ROUNDS + round_) % 9))
    barrier = threading.Barrier(16)

    def fire(call):
        kind, user, extra = call
        try:
            barrier.wait(timeout=5)   # start in waves, as a crowd does
        except threading.BrokenBarrierError:
            pass
        if kind == "me":
            return call, _call(url, "GET", "/v1/me", tokens[user])
        if kind == "missing":
            return call, _call(url, "GET", f"/v1/rooms/{extra}", tokens[user])
        return call, _call(url, "POST", f"/v1/rooms/{room['id']}/likes", tokens[user], {"count": extra})

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(fire, calls))

    wrong = []
    for (kind, user, extra), (status, headers, body) in answers:
        own_id = headers.get("X-Correlation-Id")
        if kind == "me" and (status != 200 or body.get("id") != user):
            wrong.append((kind, user, status, body))
        if kind == "missing" and (status != 404 or body.get("correlation_id") != own_id):
            wrong.append((kind, own_id, status, body))
        if kind == "likes" and (status != 202 or body.get("accepted") != extra or body.get("room_id") != room["id"]):
            wrong.append((kind, user, extra, status, body))
        if status < 500 and not own_id:
            wrong.append(("no X-Correlation-Id", kind, status))
    assert not wrong, f"{len(wrong)} of {len(answers)} answers belong to another request: {wrong[:5]}"

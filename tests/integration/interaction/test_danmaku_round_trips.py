"""Issue 17 outcome 2: the AWS round trips of one POST /danmaku before the message is
accepted (stored), counted with a wrapper on every botocore call (boto3 and PynamoDB
alike) that records each call's operation and time span and adds a fixed latency, so
calls made together overlap and calls made one after the other do not. A round trip is
a group of overlapping calls; the message is accepted by the PutItem of its DM# item.

Before this work the path made about 8 sequential calls cold (room, moderation,
settings, nickname, rate counter, duplicate claim, flood counter, message) and 5 warm."""
from __future__ import annotations

import threading
import time

import pytest

pytestmark = pytest.mark.integration

# Long enough that calls started together still overlap when a loaded machine starts one of their
# threads late (at 40 ms one run in five counted an extra round trip); sequential calls never overlap.
LATENCY_S = 0.15


class Calls:
    def __init__(self) -> None:
        self.recording = False
        self.spans: list[tuple[float, float, str, str]] = []
        self._lock = threading.Lock()

    def waves_until_accepted(self) -> tuple[int, list[list[str]]]:
        """Round trips (groups of overlapping calls) up to and including the message's PutItem."""
        spans = sorted(self.spans)
        waves: list[list[str]] = []
        end = -1.0
        for start, stop, op, key in spans:
            if start >= end:
                waves.append([])
            waves[-1].append(f"{op}:{key}")
            end = max(end, stop) if start < end else stop
            if op == "PutItem" and key.startswith("DM#"):
                return len(waves), waves
        raise AssertionError(f"the message was never stored: {waves}")


@pytest.fixture
def calls(monkeypatch):
    from botocore.client import BaseClient

    from livecommerce.interaction import service

    found = Calls()
    original_call = BaseClient._make_api_call
    original_send = service.send_danmaku

    def counted(self, operation, params):
        if not found.recording:
            return original_call(self, operation, params)
        key = str(((params.get("Item") or params.get("Key") or {}).get("pk") or {}).get("S", ""))
        start = time.perf_counter()
        time.sleep(LATENCY_S)                       # every round trip costs the same on the wire
        try:
            return original_call(self, operation, params)
        finally:
            with found._lock:
                found.spans.append((start, time.perf_counter(), operation, key))

    def send(*args, **kwargs):
        found.recording, found.spans = True, []
        try:
            return original_send(*args, **kwargs)
        finally:
            found.recording = False

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    monkeypatch.setattr(service, "send_danmaku", send)
    return found


def danmaku(api, token, room_id, text, **extra):
    return api.call("POST", f"/v1/rooms/{room_id}/danmaku", token=token, json_body={"text": text, **extra})


def test_at_most_three_round_trips_before_a_message_is_accepted(api, tokens_for, room, calls):
    from livecommerce.interaction import service

    host, viewer = tokens_for("host-1"), tokens_for("viewer-1")
    api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host, json_body={"blocked_words": ["加微信"]})

    service.clear_caches()                      # a cold container: room, settings, nickname unknown
    cold = danmaku(api, viewer, room, "这件有黑色吗")
    assert cold.status == 201, cold.body
    waves, seen = calls.waves_until_accepted()
    assert waves <= 3, seen
    # The sender's standing, rate window and recent texts: one read and one write of one item.
    ops = [call.split(":")[0] for wave in seen for call in wave]
    assert ops.count("UpdateItem") <= 2 and "PutItem" in ops, seen

    warm = danmaku(api, tokens_for("viewer-2"), room, "想要")     # a quick phrase, caches warm
    assert warm.status == 201, warm.body
    waves, seen = calls.waves_until_accepted()
    assert waves <= 3, seen

    reply = danmaku(api, host, room, "有的，黑色和白色", reply_to=cold.json()["id"])
    assert reply.status == 201, reply.body
    waves, seen = calls.waves_until_accepted()
    assert waves <= 3, seen

    # The rules still hold on the merged path (refusals write no message).
    assert danmaku(api, viewer, room, "这件 有黑色吗").json()["code"] == "duplicate_message"
    assert danmaku(api, viewer, room, "加 微 信 聊").json()["code"] == "blocked_word"
    assert not any(op == "PutItem" and key.startswith("DM#") for _, _, op, key in calls.spans)

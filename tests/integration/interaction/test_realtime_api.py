"""The room channel's HTTP side through the gateway emulation on moto:
credentials, danmaku with moderation, likes, host tools, and what reaches
IoT Core (moto records every iot-data Publish)."""
from __future__ import annotations

import time

import pytest

from tests.polling import poll

pytestmark = pytest.mark.integration


def danmaku(api, token, room_id, text, **extra):
    return api.call("POST", f"/v1/rooms/{room_id}/danmaku", token=token, json_body={"text": text, **extra})


def test_realtime_credentials_and_topics(api, tokens_for, room):
    response = api.call("GET", f"/v1/rooms/{room}/realtime", token=tokens_for("viewer-1"))
    assert response.status == 200, response.body
    body = response.json()
    prefix = f"lc/local/rooms/{room}"
    assert body["topics"] == {"danmaku": f"{prefix}/danmaku", "events": f"{prefix}/events",
                              "private": f"{prefix}/users/viewer-1",
                              "state": f"{prefix}/state/+"}     # the retained room state (late joiners)
    assert body["client_id"].startswith("lc-local-viewer-1-")
    assert body["credentials"]["username"] == room
    assert body["credentials"]["password"] == tokens_for("viewer-1")
    assert body["density"]["max_batches_per_second"] == 5.0
    assert body["quick_phrases"][:2] == ["想要", "优惠多少"]
    assert body["likes_total"] == 0 and body["status"] == "live"
    again = api.call("GET", f"/v1/rooms/{room}/realtime", token=tokens_for("viewer-1")).json()
    assert again["client_id"] != body["client_id"]


def test_danmaku_reaches_sender_at_once_and_room_in_a_batch(api, tokens_for, room, published):
    sent = danmaku(api, tokens_for("viewer-1"), room, "这件羽绒服有黑色吗？🖤")
    assert sent.status == 201, sent.body
    message = sent.json()
    assert message["text"] == "这件羽绒服有黑色吗？🖤" and message["host"] is False and message["kind"] == "text"
    acks = published.on("/users/viewer-1")
    assert [a["item"]["id"] for a in acks] == [message["id"]]
    # A quiet room's slot is open: the accepting call publishes the batch itself.
    batches = published.on("/danmaku")
    assert len(batches) == 1 and [i["id"] for i in batches[0]["items"]] == [message["id"]]
    assert batches[0]["dropped"] == 0


def _wait_for(predicate, seconds: float = 15.0):
    return poll(predicate, seconds)


def test_a_burst_goes_out_in_slots_and_the_last_messages_are_flushed(api, tokens_for, room, published):
    """Messages sent while the slot is closed wait for the next one; whoever finds no
    trailing publisher asks the realtime batcher (an asynchronous invocation) to publish
    then, so the burst's tail does not wait for a later message."""
    sent = []
    for n in range(6):
        response = danmaku(api, api.login(f"burst-{n}"), room, f"第{n}个问题：有优惠吗")
        assert response.status == 201, response.body
        sent.append(response.json()["id"])
    delivered = _wait_for(lambda: [i["id"] for b in published.on("/danmaku") for i in b["items"]]
                          if len({i["id"] for b in published.on("/danmaku") for i in b["items"]}) == 6 else None)
    assert delivered is not None and sorted(delivered) == sorted(sent)      # each once, none lost
    slots = [b["at"] for b in published.on("/danmaku")]
    assert len(slots) >= 2
    assert all(b - a >= 200 for a, b in zip(slots, slots[1:]))             # at most 5 a second


def test_a_failed_flush_request_is_published_by_the_caller(api, tokens_for, room, published, monkeypatch):
    """No batcher to ask (invoke refused): the call that claimed the slot waits for it."""
    monkeypatch.setenv("REALTIME_BATCHER_FUNCTION", "no-such-function")
    first = danmaku(api, api.login("lonely-1"), room, "第一条").json()["id"]
    second = danmaku(api, api.login("lonely-2"), room, "第二条")
    assert second.status == 201
    # Published by the time the call answered (nobody else could have), in the next slot.
    batches = published.on("/danmaku")
    assert [i["id"] for b in batches for i in b["items"]] == [first, second.json()["id"]]
    assert batches[1]["at"] - batches[0]["at"] >= 200


@pytest.mark.parametrize("text, code", [
    ("", None),                                  # pydantic: min_length
    ("   ", "text_empty"),
    ("好" * 61, "text_too_long"),
    ("第一行\n第二行", "text_control_characters"),
    ("hello\u202eevil", "text_control_characters"),  # bidi override
    ("zero\u200bwidth", "text_control_characters"),
])
def test_bad_text_is_rejected_and_nothing_is_published(api, tokens_for, room, published, pump, text, code):
    response = danmaku(api, tokens_for("viewer-1"), room, text)
    assert response.status == 422, response.body
    body = response.json()
    assert body["errors"][0]["field"] == "body.text"
    if code:
        assert body["errors"][0]["type"] == code
    pump.drain()
    assert published.all() == []


def test_emoji_sequences_are_fine(api, room):
    for n, text in enumerate(("👍🏻", "👨\u200d👩\u200d👧", "🇨🇳", "❤️❤️❤️")):
        assert danmaku(api, api.login(f"emoji-{n}"), room, text).status == 201, text


def test_blocked_words_platform_and_room(api, tokens_for, room, published, pump, monkeypatch):
    from livecommerce.interaction.settings import reset_interaction_settings

    monkeypatch.setenv("DANMAKU_BLOCKED_WORDS", "加微信,刷单")
    reset_interaction_settings()
    host = tokens_for("host-1")
    put = api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host,
                   json_body={"blocked_words": ["假货"], "quick_phrases": ["想要", "多少钱", "想要"]})
    assert put.status == 200, put.body
    assert put.json()["quick_phrases"] == ["想要", "多少钱"]
    for text in ("私聊 加 微 信 送礼", "刷-单有返现", "这是假货吧"):
        response = danmaku(api, tokens_for("viewer-1"), room, text)
        assert response.status == 422 and response.json()["code"] == "blocked_word", text
        assert "假货" not in response.body and "微信" not in response.body
    pump.drain()
    assert published.all() == []
    assert api.call("GET", f"/v1/rooms/{room}/danmaku-settings", token=tokens_for("viewer-1")).status == 403
    assert api.call("GET", f"/v1/rooms/{room}/danmaku-settings", token=tokens_for("host-2")).status == 403
    assert api.call("PUT", f"/v1/rooms/{room}/danmaku-settings", token=host,
                    json_body={"blocked_words": ["\n"]}).status == 422


def long_windows(monkeypatch):
    """Fixed windows of a year: no window boundary falls inside a test."""
    from livecommerce.interaction.settings import reset_interaction_settings

    for name in ("DANMAKU_USER_WINDOW_SECONDS", "DANMAKU_FLOOD_WINDOW_SECONDS", "LIKE_USER_WINDOW_SECONDS"):
        monkeypatch.setenv(name, str(365 * 86400))
    reset_interaction_settings()


def test_rate_limit_duplicates_and_floods(api, tokens_for, room, monkeypatch):
    from livecommerce.interaction.settings import reset_interaction_settings

    long_windows(monkeypatch)
    viewer = tokens_for("viewer-1")
    assert danmaku(api, viewer, room, "第一条").status == 201
    duplicate = danmaku(api, viewer, room, "第 一 条")
    assert duplicate.status == 409 and duplicate.json()["code"] == "duplicate_message"
    assert danmaku(api, viewer, room, "第三条").status == 201
    limited = danmaku(api, viewer, room, "第四条")
    assert limited.status == 429 and limited.json()["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1

    monkeypatch.setenv("DANMAKU_FLOOD_MAX_IDENTICAL", "3")
    reset_interaction_settings()
    codes = [danmaku(api, api.login(f"bot-{n}"), room, "快来看看我的主页").status for n in range(5)]
    assert codes[:3] == [201, 201, 201] and codes[3:] == [429, 429]
    # Quick phrases are meant to be repeated: the batch counts them instead.
    assert all(danmaku(api, api.login(f"fan-{n}"), room, "想要").status == 201 for n in range(5))


def test_test_rooms_and_ended_rooms(api, tokens_for, make_room):
    rehearsal = make_room(visibility="test")
    assert danmaku(api, tokens_for("viewer-1"), rehearsal, "hi").status == 404
    assert api.call("GET", f"/v1/rooms/{rehearsal}/realtime", token=tokens_for("viewer-1")).status == 404
    assert danmaku(api, tokens_for("host-1"), rehearsal, "试播").status == 201
    room = make_room()
    assert api.call("POST", f"/v1/rooms/{room}/end", token=tokens_for("host-1")).status == 200
    ended = danmaku(api, tokens_for("viewer-1"), room, "还在吗")
    assert ended.status == 409 and ended.json()["code"] == "room_ended"
    assert api.call("POST", f"/v1/rooms/{room}/likes", token=tokens_for("viewer-1"),
                    json_body={"count": 1}).status == 409


def test_host_replies_mutes_and_bans(api, tokens_for, room, published, pump):
    viewer, host = tokens_for("viewer-1"), tokens_for("host-1")
    question = danmaku(api, viewer, room, "优惠多少").json()
    forbidden = danmaku(api, tokens_for("viewer-2"), room, "@viewer-1 不知道", reply_to=question["id"])
    assert forbidden.status == 403 and forbidden.json()["code"] == "reply_host_only"
    missing = danmaku(api, host, room, "答", reply_to="01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert missing.status == 404 and missing.json()["code"] == "message_not_found"
    answer = danmaku(api, host, room, "今晚立减50元！", reply_to=question["id"])
    assert answer.status == 201, answer.body
    assert answer.json()["host"] is True and answer.json()["reply_to"]["id"] == question["id"]
    notices = published.on("/users/viewer-1")
    assert notices[-1]["type"] == "host_reply" and notices[-1]["item"]["id"] == answer.json()["id"]

    mute = api.call("PUT", f"/v1/rooms/{room}/mutes/viewer-1", token=host, json_body={"duration_seconds": 600})
    assert mute.status == 200 and mute.json()["muted_until"], mute.body
    muted = danmaku(api, viewer, room, "我被禁言了吗")
    assert muted.status == 403 and muted.json()["code"] == "muted"
    assert api.call("POST", f"/v1/rooms/{room}/likes", token=viewer, json_body={"count": 3}).status == 202
    assert api.call("DELETE", f"/v1/rooms/{room}/mutes/viewer-1", token=host).json()["muted_until"] is None
    assert danmaku(api, viewer, room, "解除了").status == 201

    assert api.call("PUT", f"/v1/rooms/{room}/bans/viewer-1", token=tokens_for("viewer-2"),
                    json_body={}).status == 403
    assert api.call("PUT", f"/v1/rooms/{room}/bans/viewer-1", token=tokens_for("host-2"),
                    json_body={}).status == 403
    own = api.call("PUT", f"/v1/rooms/{room}/mutes/host-1", token=host, json_body={})
    assert own.status == 409 and own.json()["code"] == "cannot_moderate_host"
    banned = api.call("PUT", f"/v1/rooms/{room}/bans/viewer-1", token=host, json_body={"reason": "广告"})
    assert banned.status == 200 and banned.json()["banned"] is True
    assert published.on("/users/viewer-1")[-1]["type"] == "banned"
    assert danmaku(api, viewer, room, "还能说吗").json()["code"] == "banned"
    assert api.call("POST", f"/v1/rooms/{room}/likes", token=viewer, json_body={"count": 1}).status == 403
    assert api.call("GET", f"/v1/rooms/{room}/realtime", token=viewer).json()["code"] == "banned"
    assert api.call("DELETE", f"/v1/rooms/{room}/bans/viewer-1", token=host).json()["banned"] is False
    assert api.call("GET", f"/v1/rooms/{room}/realtime", token=viewer).status == 200
    # Operators moderate any room.
    assert api.call("PUT", f"/v1/rooms/{room}/mutes/viewer-2", token=tokens_for("operator-1"),
                    json_body={"duration_seconds": 60}).status == 200


@pytest.mark.parametrize("body", [{"count": 0}, {"count": -5}, {"count": 10**9}, {"count": 1.5},
                                  {"count": "3"}, {"count": True}, {}, {"count": 1, "extra": 1}])
def test_bad_like_counts_are_rejected(api, tokens_for, room, published, pump, body):
    response = api.call("POST", f"/v1/rooms/{room}/likes", token=tokens_for("viewer-1"), json_body=body)
    assert response.status == 422, response.body
    pump.drain()
    assert published.all() == []


def test_likes_are_exact_under_concurrency_and_capped_per_user(api, tokens_for, room, published, pump, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    long_windows(monkeypatch)
    viewers = [api.login(f"liker-{n}") for n in range(8)]

    def like(token):
        return [api.call("POST", f"/v1/rooms/{room}/likes", token=token, json_body={"count": 7}).json()["accepted"]
                for _ in range(5)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        accepted = sum(sum(r) for r in pool.map(like, viewers))
    assert accepted == 8 * 5 * 7
    pump.drain()
    # No danmaku: the totals go out as like messages (the retained state/likes), the last one at the
    # latest a like interval after it was recorded (the batcher's check).
    totals = _wait_for(lambda: [m["total"] for m in published.on("/state/likes")]
                       if any(m["total"] == accepted for m in published.on("/state/likes")) else None)
    assert totals and totals[-1] == accepted and totals == sorted(totals)

    # The per-user cap (600 a minute): the last call is clamped, the next refused.
    token = viewers[0]
    results = [api.call("POST", f"/v1/rooms/{room}/likes", token=token, json_body={"count": 200}) for _ in range(4)]
    assert [r.status for r in results] == [202, 202, 202, 429]
    assert results[2].json() == {"room_id": room, "accepted": 600 - 35 - 400, "capped": True}
    assert results[3].json()["code"] == "like_limit"
    from livecommerce.interaction import repository

    assert repository.like_total(room) == accepted + 565


def test_like_messages_of_an_idle_room_are_spaced_and_the_last_total_always_goes_out(api, tokens_for, room,
                                                                                     published, pump):
    """No danmaku in the room: each like total goes out as a like message (state/likes) when nothing
    went out for LIKE_BROADCAST_INTERVAL_MS (2 s), else the batcher's check sends the last one then."""
    token = tokens_for("viewer-2")
    started = time.monotonic()
    for _ in range(6):
        assert api.call("POST", f"/v1/rooms/{room}/likes", token=token, json_body={"count": 1}).status == 202
        pump.drain()
    messages = _wait_for(lambda: published.on("/state/likes")
                         if any(m["total"] == 6 for m in published.on("/state/likes")) else None)
    elapsed = time.monotonic() - started
    assert messages[-1]["total"] == 6
    assert [m for m in published.on("/events") if m["type"] == "likes"] == []     # one delivery each, not two
    assert len(messages) <= int(elapsed / 2) + 1
    stamps = [m["at"] for m in messages]
    assert all(b - a >= 2000 for a, b in zip(stamps, stamps[1:]))


@pytest.mark.parametrize("request_body", [
    {"gate": "likes", "room_id": "01HZY0000000000000000000AA", "not_before_ms": 0},
    {"gate": "danmaku", "room_id": "../other", "not_before_ms": 0},
    {"gate": "danmaku", "room_id": "01HZY0000000000000000000AA", "not_before_ms": "soon"},
    {"gate": "danmaku", "room_id": "01HZY0000000000000000000AA", "not_before_ms": 10 ** 15},  # far future
])
def test_malformed_flush_requests_do_nothing(aws_env, published, request_body):
    from local.lambda_runtime import invoke

    assert invoke("realtime_batcher", {"flush": request_body}) == {"batches": 0, "like_broadcasts": 0, "store_facts": 0}
    assert published.all() == []


def test_a_flush_publishes_what_waits_once(api, room, published):
    """Two flush requests for the same slot (a retried invocation): one batch."""
    from livecommerce.interaction import repository
    from livecommerce.interaction.feed import DANMAKU_GATE
    from local.lambda_runtime import invoke

    first = danmaku(api, api.login("flush-1"), room, "先来").json()["id"]       # takes the open slot
    last_ms = repository.read_gate(room, DANMAKU_GATE).last_ms
    repository.offer(room, DANMAKU_GATE, {"id": "01HZY0000000000000000000ZZ", "user_id": "crowd-1",
                                          "text": "后到", "at_ms": int(last_ms) + 1}, cap=None)
    request = {"flush": {"gate": "danmaku", "room_id": room, "not_before_ms": int(last_ms) + 200}}
    assert invoke("realtime_batcher", request)["batches"] == 1
    assert invoke("realtime_batcher", request)["batches"] == 0
    batches = published.on("/danmaku")
    assert [[i["id"] for i in b["items"]] for b in batches] == [[first], ["01HZY0000000000000000000ZZ"]]
    assert batches[1]["at"] - batches[0]["at"] >= 200


def test_a_cached_room_is_read_again_after_a_second(api, tokens_for, make_room, monkeypatch):
    """The hot paths keep a room a moment (one DynamoDB item read by every message of a
    crowded room); an ended live refuses messages once that moment has passed."""
    from livecommerce.interaction import service

    monkeypatch.setattr(service._rooms, "seconds", 0.2)
    room = make_room()
    assert danmaku(api, tokens_for("viewer-1"), room, "开始了吗").status == 201   # the room is now cached
    assert api.call("POST", f"/v1/rooms/{room}/end", token=tokens_for("host-1")).status == 200
    time.sleep(0.25)
    ended = danmaku(api, tokens_for("viewer-2"), room, "还在吗")
    assert ended.status == 409 and ended.json()["code"] == "room_ended"
    # Anything but danmaku and likes reads the room every time.
    assert api.call("GET", f"/v1/rooms/{room}/realtime", token=tokens_for("viewer-1")).status == 409

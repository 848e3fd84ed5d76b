"""Rooms through the real entry points on moto, with IVS calls going to the
local IVS control plane (it speaks the IVS REST-JSON protocol)."""
from __future__ import annotations

import base64
import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.integration


def _future(hours: float = 24) -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _room_body(**overrides):
    body = {"title": "冬季好物专场", "topic": "羽绒服与围巾", "highlights": ["全场包邮", "整点秒杀"],
            "scheduled_start": _future(), "cover": "https://img.example.com/cover.jpg"}
    body.update(overrides)
    return body


@pytest.fixture
def room_api(api, tokens_for, ivs_env):
    return api


def _create(api, token, **overrides):
    response = api.call("POST", "/v1/rooms", token=token, json_body=_room_body(**overrides))
    assert response.status == 201, response.body
    return response.json()


def _items(session, prefix: str):
    table = session.resource("dynamodb").Table("livecommerce-local-rooms")
    return [i for i in table.scan()["Items"] if i["sk"].startswith(prefix)]


def test_host_creates_room_with_private_low_latency_channel(room_api, tokens_for, ivs_env, seeded):
    room = _create(room_api, tokens_for("host-1"))
    assert room["status"] == "scheduled" and room["host_id"] == "host-1" and room["reservation_count"] == 0
    channel = ivs_env.client("ivs").list_channels()["channels"]
    assert len(channel) == 1
    detail = ivs_env.client("ivs").get_channel(arn=channel[0]["arn"])["channel"]
    assert detail["type"] == "STANDARD" and detail["latencyMode"] == "LOW" and detail["authorized"] is True
    assert detail["name"] == f"lc-local-{room['id']}"


def test_announcement_page(room_api, tokens_for):
    room = _create(room_api, tokens_for("host-1"))
    page = room_api.call("GET", f"/v1/rooms/{room['id']}")
    assert page.status == 200, page.body
    body = page.json()
    assert body["host"]["id"] == "host-1" and body["host"]["display_name"]
    assert body["reservation_count"] == 0 and body["reserved_by_me"] is None
    assert body["room"]["highlights"] == ["全场包邮", "整点秒杀"]
    mine = room_api.call("GET", f"/v1/rooms/{room['id']}", token=tokens_for("viewer-1"))
    assert mine.json()["reserved_by_me"] is False


def test_list_rooms_by_status_with_paging(room_api, tokens_for):
    token = tokens_for("host-1")
    made = [_create(room_api, token, scheduled_start=_future(10 + i))["id"] for i in range(3)]
    _create(room_api, token, visibility="test")  # never listed
    first = room_api.call("GET", "/v1/rooms?status=scheduled&limit=2").json()
    assert len(first["items"]) == 2 and first["cursor"]
    second = room_api.call("GET", f"/v1/rooms?status=scheduled&limit=2&cursor={first['cursor']}").json()
    listed = [r["id"] for r in first["items"] + second["items"]]
    assert listed == made  # in start order, test room absent
    assert room_api.call("GET", "/v1/rooms?status=live").json()["items"] == []
    bad = room_api.call("GET", "/v1/rooms?status=scheduled&cursor=garbage")
    assert bad.status == 422
    assert room_api.call("GET", "/v1/rooms?status=archived").status == 422
    assert room_api.call("GET", "/v1/rooms?limit=0").status == 422


@pytest.mark.parametrize("overrides, field", [
    ({"scheduled_start": "2020-01-01T00:00:00Z"}, "scheduled_start"),
    ({"scheduled_start": "2030-01-01T00:00:00"}, "scheduled_start"),
    ({"scheduled_start": "tomorrow"}, "scheduled_start"),
    ({"title": ""}, "title"),
    ({"title": "x" * 61}, "title"),
    ({"highlights": ["ok", ""]}, "highlights"),
    ({"cover": "http://insecure.example.com/a.jpg"}, "cover"),
    ({"visibility": "secret"}, "visibility"),
    ({"price": 100}, "price"),
])
def test_create_room_rejects_bad_input_and_writes_nothing(room_api, tokens_for, seeded, overrides, field):
    response = room_api.call("POST", "/v1/rooms", token=tokens_for("host-1"), json_body=_room_body(**overrides))
    assert response.status == 422, response.body
    assert any(field in e["field"] for e in response.json()["errors"])
    assert _items(seeded, "META") == []


def test_only_hosts_create_and_only_for_themselves(room_api, tokens_for):
    assert room_api.call("POST", "/v1/rooms", token=tokens_for("viewer-1"), json_body=_room_body()).status == 403
    other = room_api.call("POST", "/v1/rooms", token=tokens_for("host-2"), json_body=_room_body(host_id="host-1"))
    assert other.status == 403
    by_operator = room_api.call("POST", "/v1/rooms", token=tokens_for("operator-1"),
                                json_body=_room_body(host_id="host-1"))
    assert by_operator.status == 201 and by_operator.json()["host_id"] == "host-1"


def test_edit_before_start_only(room_api, tokens_for):
    token = tokens_for("host-1")
    room = _create(room_api, token)
    new_start = _future(48)
    edited = room_api.call("PATCH", f"/v1/rooms/{room['id']}", token=token,
                           json_body={"title": "新标题", "scheduled_start": new_start})
    assert edited.status == 200 and edited.json()["title"] == "新标题"
    assert room_api.call("PATCH", f"/v1/rooms/{room['id']}", token=tokens_for("host-2"),
                         json_body={"title": "hijack"}).status == 403
    assert room_api.call("PATCH", f"/v1/rooms/{room['id']}", token=token, json_body={}).status == 400
    assert room_api.call("PATCH", f"/v1/rooms/{room['id']}", token=token,
                         json_body={"title": None}).status == 422
    assert room_api.call("POST", f"/v1/rooms/{room['id']}/start", token=token).status == 200
    late = room_api.call("PATCH", f"/v1/rooms/{room['id']}", token=token, json_body={"title": "too late"})
    assert late.status == 409 and late.json()["code"] == "room_started"


def test_reservations_count_consent_and_protected_phone(room_api, tokens_for, seeded):
    room = _create(room_api, tokens_for("host-1"))
    path = f"/v1/rooms/{room['id']}/reservation"
    first = room_api.call("PUT", path, token=tokens_for("viewer-1"),
                          json_body={"subscribe_message": True, "sms": True, "phone": "13812345678"})
    assert first.status == 201, first.body
    assert first.json()["phone"] == "138****5678" and first.json()["reservation_count"] == 1
    again = room_api.call("PUT", path, token=tokens_for("viewer-1"), json_body={"subscribe_message": True})
    assert again.status == 200 and again.json()["reservation_count"] == 1 and again.json()["sms"] is False
    stored = _items(seeded, "RES#")
    assert len(stored) == 1
    assert "13812345678" not in json.dumps(stored, default=str)

    room_api.call("PUT", path, token=tokens_for("viewer-2"), json_body={"sms": True, "phone": "13900001111"})
    assert room_api.call("GET", f"/v1/rooms/{room['id']}").json()["reservation_count"] == 2
    mine = room_api.call("GET", "/v1/me/reservations", token=tokens_for("viewer-2")).json()
    assert [r["room_id"] for r in mine["items"]] == [room["id"]]

    from livecommerce.rooms import repository, service

    stored = repository.get_reservation(room["id"], "viewer-2")
    assert service.decrypt_phone(stored) == "13900001111"

    cancel = room_api.call("DELETE", path, token=tokens_for("viewer-2"))
    assert cancel.json() == {"room_id": room["id"], "reserved": False, "changed": True, "reservation_count": 1}
    assert room_api.call("DELETE", path, token=tokens_for("viewer-2")).json()["changed"] is False


@pytest.mark.parametrize("body", [{"sms": True}, {"subscribe_message": False, "sms": False},
                                  {"sms": True, "phone": "12345"}, {"phone": "13812345678", "extra": 1}])
def test_reservation_bad_input(room_api, tokens_for, seeded, body):
    room = _create(room_api, tokens_for("host-1"))
    response = room_api.call("PUT", f"/v1/rooms/{room['id']}/reservation", token=tokens_for("viewer-1"),
                             json_body=body)
    assert response.status == 422
    assert _items(seeded, "RES#") == []


def test_concurrent_reservations_are_counted_exactly(room_api, tokens_for, seeded):
    room = _create(room_api, tokens_for("host-1"))
    path = f"/v1/rooms/{room['id']}/reservation"
    viewers = [f"crowd-{i}" for i in range(24)]
    tokens = {v: room_api.login(v) for v in viewers}
    errors = []

    def reserve(viewer):
        for attempt in range(10):
            response = room_api.call("PUT", path, token=tokens[viewer], json_body={"subscribe_message": True})
            if response.status in (200, 201):
                return
            if response.status in (409, 429) and response.json().get("retryable"):
                continue
            errors.append(response.body)
            return

    threads = [threading.Thread(target=reserve, args=(v,)) for v in viewers for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert room_api.call("GET", f"/v1/rooms/{room['id']}").json()["reservation_count"] == len(viewers)
    assert len(_items(seeded, "RES#")) == len(viewers)


def test_reserving_an_ended_room_is_refused(room_api, tokens_for):
    token = tokens_for("host-1")
    room = _create(room_api, token)
    assert room_api.call("POST", f"/v1/rooms/{room['id']}/end", token=token).status == 200
    response = room_api.call("PUT", f"/v1/rooms/{room['id']}/reservation", token=tokens_for("viewer-1"),
                             json_body={"subscribe_message": True})
    assert response.status == 409 and response.json()["code"] == "room_ended"


def test_ingest_is_for_the_host_and_rotation_changes_the_key(room_api, tokens_for):
    token = tokens_for("host-1")
    room = _create(room_api, token)
    path = f"/v1/rooms/{room['id']}/ingest"
    ingest = room_api.call("GET", path, token=token)
    assert ingest.status == 200, ingest.body
    assert ingest.json()["stream_key"] and ingest.json()["server"].endswith("/app/")
    assert room_api.call("GET", path, token=tokens_for("viewer-1")).status == 403
    assert room_api.call("GET", path, token=tokens_for("host-2")).status == 403
    rotated = room_api.call("POST", f"/v1/rooms/{room['id']}/stream-key/rotate", token=token)
    assert rotated.status == 200
    assert rotated.json()["stream_key"] != ingest.json()["stream_key"]
    assert room_api.call("GET", path, token=token).json()["stream_key"] == rotated.json()["stream_key"]


def test_playback_token_is_es384_short_lived_and_carries_channel_and_viewer(room_api, tokens_for):
    import jwt

    room = _create(room_api, tokens_for("host-1"))
    response = room_api.call("GET", f"/v1/rooms/{room['id']}/playback", token=tokens_for("viewer-1"))
    assert response.status == 200, response.body
    body = response.json()
    assert jwt.get_unverified_header(body["token"])["alg"] == "ES384"
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["aws:channel-arn"].startswith("arn:aws:ivs:")
    assert claims["aws:viewer-id"] == "viewer-1"
    assert 0 < claims["exp"] - datetime.now(timezone.utc).timestamp() <= 600
    assert f"token={body['token']}" in body["playback_url"]


def test_test_room_is_invisible_except_to_its_host(room_api, tokens_for):
    host = tokens_for("host-1")
    room = _create(room_api, host, visibility="test")
    assert room_api.call("GET", f"/v1/rooms/{room['id']}/playback", token=host).status == 200
    for other in ("viewer-1", "host-2"):
        response = room_api.call("GET", f"/v1/rooms/{room['id']}/playback", token=tokens_for(other))
        assert response.status == 404, other
        assert room_api.call("GET", f"/v1/rooms/{room['id']}", token=tokens_for(other)).status == 404
    assert room_api.call("GET", f"/v1/rooms/{room['id']}").status == 404
    assert room_api.call("GET", f"/v1/rooms/{room['id']}", token=host).status == 200
    assert room_api.call("GET", f"/v1/rooms/{room['id']}/playback", token=tokens_for("operator-1")).status == 200


def test_materials_presigned_upload_and_list(room_api, tokens_for, seeded):
    import requests

    token = tokens_for("host-1")
    room = _create(room_api, token)
    path = f"/v1/rooms/{room['id']}/materials"
    made = room_api.call("POST", path, token=token,
                         json_body={"filename": "script.txt", "content_type": "text/plain", "size_bytes": 11})
    assert made.status == 201, made.body
    upload = made.json()
    assert upload["material"]["kind"] == "script"
    assert room_api.call("GET", path, token=token).json()["items"] == []  # not uploaded yet
    # moto (in-process) answers presigned POSTs through requests' mock transport.
    posted = requests.post(upload["upload_url"], data=upload["upload_fields"],
                           files={"file": ("script.txt", b"hello world", "text/plain")})
    assert posted.status_code in (200, 204), posted.text
    listed = room_api.call("GET", path, token=token).json()["items"]
    assert [m["filename"] for m in listed] == ["script.txt"] and listed[0]["download_url"]
    assert room_api.call("GET", path, token=tokens_for("viewer-1")).status == 403


@pytest.mark.parametrize("body, field", [
    ({"filename": "a.exe", "content_type": "application/x-msdownload", "size_bytes": 10}, "content_type"),
    ({"filename": "big.png", "content_type": "image/png", "size_bytes": 11 * 1024 * 1024}, "size_bytes"),
    ({"filename": "../x.png", "content_type": "image/png", "size_bytes": 10}, "filename"),
    ({"filename": "x.png", "content_type": "image/png", "size_bytes": 0}, "size_bytes"),
])
def test_material_limits(room_api, tokens_for, seeded, body, field):
    room = _create(room_api, tokens_for("host-1"))
    response = room_api.call("POST", f"/v1/rooms/{room['id']}/materials", token=tokens_for("host-1"), json_body=body)
    assert response.status == 422, response.body
    assert any(field in e["field"] for e in response.json()["errors"])
    assert _items(seeded, "MATERIAL#") == []


def test_unknown_room_and_bad_ids(room_api, tokens_for):
    assert room_api.call("GET", "/v1/rooms/01JZZZZZZZZZZZZZZZZZZZZZZZ").status == 404
    assert room_api.call("GET", "/v1/rooms/not-a-ulid").status == 422

"""Room titles, topics, highlights and intros are clean text and material file
names are names: through the real rooms handler, a bad value is 422 naming the
field and nothing is stored; NUL is refused, never stored or turned into a
space (issue 10, outcome 6). Material sizes are JSON integers (outcome 5)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.integration


def _future(hours: float = 24) -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _items(session, prefix: str):
    table = session.resource("dynamodb").Table("livecommerce-local-rooms")
    return [i for i in table.scan()["Items"] if i["sk"].startswith(prefix)]


def _refused(response, field):
    assert response.status == 422, (field, response.status, response.body)
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_failed"
    assert any(field in e["field"].split(".") for e in body["errors"]), body


@pytest.fixture
def host(api, tokens_for, ivs_env):
    return tokens_for("host-1")


BAD_TEXT = [("title", "直播\x00好物"), ("title", "直播\u202e好物"), ("title", "直播好物\n"), ("title", "   "),
            ("title", "直播\x9b好物"), ("topic", "羽绒服\u2067与围巾"), ("topic", "羽绒服\r与围巾"),
            ("highlights", ["全场包邮", "整点\x00秒杀"]), ("highlights", ["全场\u200f包邮"]), ("highlights", [" "]),
            ("host_intro", "每晚\x00八点"), ("host_intro", "每晚\u2028八点"), ("cover", "https://img.example.com/\u202ec.jpg")]


def test_room_text_refuses_control_and_bidi_characters_and_stores_nothing(api, host, ivs_env):
    before = len(_items(ivs_env, "META"))
    for field, value in BAD_TEXT:
        response = api.call("POST", "/v1/rooms", token=host,
                            json_body={"title": "冬季好物专场", "scheduled_start": _future(), field: value})
        _refused(response, field)
    assert len(_items(ivs_env, "META")) == before

    room = api.call("POST", "/v1/rooms", token=host, json_body={"title": "冬季好物专场", "scheduled_start": _future()})
    assert room.status == 201, room.body
    path = f"/v1/rooms/{room.json()['id']}"
    for field, value in BAD_TEXT:
        _refused(api.call("PATCH", path, token=host, json_body={field: value}), field)
    assert api.call("GET", path).json()["room"]["title"] == "冬季好物专场"


def test_clean_room_text_is_stored_exactly_as_sent(api, host, ivs_env):
    body = {"title": " 冬季好物专场 ❤️ ", "topic": "羽绒服与围巾", "highlights": [" 全场包邮", "👨‍👩‍👧 亲子款"],
            "host_intro": "每晚八点", "scheduled_start": _future()}
    created = api.call("POST", "/v1/rooms", token=host, json_body=body)
    assert created.status == 201, created.body
    got = api.call("GET", f"/v1/rooms/{created.json()['id']}").json()["room"]
    assert (got["title"], got["highlights"]) == (" 冬季好物专场 ❤️ ", [" 全场包邮", "👨‍👩‍👧 亲子款"])


def test_material_names_and_sizes(api, host, ivs_env):
    room = api.call("POST", "/v1/rooms", token=host, json_body={"title": "冬季好物专场", "scheduled_start": _future()})
    path = f"/v1/rooms/{room.json()['id']}/materials"
    good = {"filename": "脚本.txt", "content_type": "text/plain", "size_bytes": 1024}
    for name in (".", "..", "../脚本.txt", "a/b.txt", "a\\b.txt", "脚本.", "脚本 ", "CON", "con.txt", "NUL",
                 "nul.tar.gz", "AUX.md", "PRN", "COM1.pdf", "lpt9", "脚本\x00.txt", "slides\u202etxt.exe", "a:b.txt"):
        _refused(api.call("POST", path, token=host, json_body={**good, "filename": name}), "filename")
    for value in (True, "1024", 1024.0):
        _refused(api.call("POST", path, token=host, json_body={**good, "size_bytes": value}), "size_bytes")
    assert _items(ivs_env, "MATERIAL#") == []
    ok = api.call("POST", path, token=host, json_body={**good, "filename": "COM10 脚本.txt"})
    assert ok.status == 201 and ok.json()["material"]["filename"] == "COM10 脚本.txt"

"""Room covers uploaded from the console, through the real entry points on moto: the presigned POST
(S3 enforces key, type and size), the check of the uploaded object, and a cover as private as its room."""
from __future__ import annotations

import pytest
import requests

from tests.integration.rooms.test_rooms_api import _create

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def room_api(api, tokens_for, ivs_env):
    return api


def _upload(api, token, room_id, content_type, data, *, declared=None):
    made = api.call("POST", f"/v1/rooms/{room_id}/cover-uploads", token=token,
                    json_body={"content_type": content_type, "size_bytes": declared or len(data)})
    assert made.status == 201, made.body
    slot = made.json()
    # moto (in-process) answers presigned POSTs through requests' mock transport.
    posted = requests.post(slot["upload_url"], data=slot["upload_fields"],
                           files={"file": ("cover", data, content_type)})
    return slot, posted


def test_host_uploads_cover_and_viewers_see_it(room_api, tokens_for, seeded):
    token = tokens_for("host-1")
    room = _create(room_api, token)
    slot, posted = _upload(room_api, token, room["id"], "image/png", PNG)
    assert posted.status_code in (200, 204), posted.text
    assert slot["upload_fields"]["key"] == f"rooms/{room['id']}/covers/{slot['upload_id']}"
    assert slot["max_bytes"] == 5 * 1024 * 1024
    done = room_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=token, json_body={"upload_id": slot["upload_id"]})
    assert done.status == 200, done.body
    link = done.json()["cover"]
    assert link.startswith("https://") and slot["upload_id"] in link and link != "https://img.example.com/cover.jpg"
    # Anyone reading the announcement gets a working link to the image.
    seen = room_api.call("GET", f"/v1/rooms/{room['id']}").json()["room"]["cover"]
    assert requests.get(seen).content == PNG
    # A cover URL sent later replaces the upload.
    patched = room_api.call("PATCH", f"/v1/rooms/{room['id']}", token=token,
                            json_body={"cover": "https://img.example.com/other.jpg"})
    assert patched.json()["cover"] == "https://img.example.com/other.jpg"
    # A viewer may neither ask for an upload slot nor set the cover.
    viewer = tokens_for("viewer-1")
    assert room_api.call("POST", f"/v1/rooms/{room['id']}/cover-uploads", token=viewer,
                         json_body={"content_type": "image/png", "size_bytes": 10}).status == 403
    refused = room_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=viewer,
                            json_body={"upload_id": slot["upload_id"]})
    assert refused.status == 403 and refused.json()["code"] == "host_required"
    other = room_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=tokens_for("host-2"),
                          json_body={"upload_id": slot["upload_id"]})
    assert other.status == 403 and other.json()["code"] == "not_room_host"


def test_wrong_type_too_big_and_lying_files_are_refused(room_api, tokens_for, seeded):
    token = tokens_for("host-1")
    room = _create(room_api, token)
    path = f"/v1/rooms/{room['id']}/cover-uploads"
    gif = room_api.call("POST", path, token=token, json_body={"content_type": "image/gif", "size_bytes": 10})
    assert gif.status == 422 and {k.lower(): v for k, v in gif.headers.items()}.get("content-type", "").startswith("application/problem+json")
    assert any("content_type" in e["field"] for e in gif.json()["errors"])
    big = room_api.call("POST", path, token=token, json_body={"content_type": "image/jpeg", "size_bytes": 5 * 1024 * 1024 + 1})
    assert big.status == 422 and any("size_bytes" in e["field"] for e in big.json()["errors"])
    # A file larger than the limit that reached the bucket anyway (S3's policy refuses it; moto does
    # not enforce content-length-range) is refused by the check of the object itself.
    slot, _ = _upload(room_api, token, room["id"], "image/jpeg", JPEG + b"x" * (5 * 1024 * 1024),
                      declared=5 * 1024 * 1024)
    huge = room_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=token, json_body={"upload_id": slot["upload_id"]})
    assert huge.status == 422 and huge.json()["code"] == "cover_rejected" and "5 MB" in huge.json()["detail"]
    # An upload that never happened.
    slot = room_api.call("POST", path, token=token, json_body={"content_type": "image/png", "size_bytes": 10}).json()
    missing = room_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=token, json_body={"upload_id": slot["upload_id"]})
    assert missing.status == 409 and missing.json()["code"] == "cover_not_uploaded"
    # A file whose bytes are not the image its type claims is refused; the cover stays as it was.
    slot, posted = _upload(room_api, token, room["id"], "image/png", b"<html>not an image</html>")
    assert posted.status_code in (200, 204)
    lying = room_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=token, json_body={"upload_id": slot["upload_id"]})
    assert lying.status == 422 and lying.json()["code"] == "cover_rejected", lying.body
    assert "image/png" in lying.json()["detail"]
    assert room_api.call("GET", f"/v1/rooms/{room['id']}").json()["room"]["cover"] == "https://img.example.com/cover.jpg"


def test_test_room_cover_is_private_like_the_room(room_api, tokens_for, seeded):
    token = tokens_for("host-1")
    room = _create(room_api, token, visibility="test")
    slot, posted = _upload(room_api, token, room["id"], "image/jpeg", JPEG)
    assert posted.status_code in (200, 204)
    assert room_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=token,
                         json_body={"upload_id": slot["upload_id"]}).status == 200
    # The object itself is not public: no unsigned read.
    from urllib.parse import urlsplit
    link = room_api.call("GET", f"/v1/rooms/{room['id']}", token=token).json()["room"]["cover"]
    assert requests.get(link).content == JPEG
    parts = urlsplit(link)
    assert requests.get(f"{parts.scheme}://{parts.netloc}{parts.path}").status_code == 403
    # Viewers and anonymous callers do not see the room, so they get no link.
    for who in (tokens_for("viewer-1"), None):
        assert room_api.call("GET", f"/v1/rooms/{room['id']}", token=who).status == 404
        assert room_api.call("POST", f"/v1/rooms/{room['id']}/cover-uploads", token=who or None,
                             json_body={"content_type": "image/png", "size_bytes": 10}).status in (401, 403)
    # Another host does not even learn that the room exists.
    other = room_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=tokens_for("host-2"),
                          json_body={"upload_id": slot["upload_id"]})
    assert other.status == 404

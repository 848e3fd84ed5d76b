"""Public rooms' covers on the CDN (rooms.public_covers), through the real entry points on moto: on
`PUT .../cover` a public room's cover is copied to the public-covers bucket (the web distribution's
/covers/* origin) with its type and a year's immutable Cache-Control, and the room view's `cover` is the
stable CDN URL; a test room keeps the private presigned link and gets no copy until a PATCH makes it public."""
from __future__ import annotations

import pytest
import requests

from tests.integration.rooms.test_room_cover_upload import PNG, _upload
from tests.integration.rooms.test_rooms_api import _create

pytestmark = pytest.mark.integration

CDN = "https://d1covers.cloudfront.net"
BUCKET = "livecommerce-local-public-covers"


@pytest.fixture
def cdn_api(api, tokens_for, ivs_env, monkeypatch):
    from livecommerce.shared import aws
    from livecommerce.shared.settings import reset_settings

    monkeypatch.setenv("PUBLIC_COVERS_BASE_URL", CDN + "/")     # a trailing slash is dropped
    reset_settings()
    aws.reset_clients()
    yield api
    reset_settings()


def _public_keys(session) -> list[str]:
    return [o["Key"] for o in session.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_public_room_cover_is_copied_and_linked_by_its_cdn_url(cdn_api, tokens_for, seeded):
    token = tokens_for("host-1")
    room = _create(cdn_api, token)
    assert room["visibility"] == "public"
    slot, posted = _upload(cdn_api, token, room["id"], "image/png", PNG)
    assert posted.status_code in (200, 204), posted.text
    done = cdn_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=token, json_body={"upload_id": slot["upload_id"]})
    assert done.status == 200, done.body
    key = f"covers/{room['id']}/{slot['upload_id']}"
    assert done.json()["cover"] == f"{CDN}/{key}"
    # the copy: same bytes, the image type, immutable for a year, S3-managed encryption (OAC reads it)
    copy = seeded.client("s3").get_object(Bucket=BUCKET, Key=key)
    assert copy["Body"].read() == PNG
    assert (copy["ContentType"], copy["CacheControl"], copy["ServerSideEncryption"]) == (
        "image/png", "public, max-age=31536000, immutable", "AES256")
    # the same stable URL on every read, for anyone (no signature, no expiry in it)
    first = cdn_api.call("GET", f"/v1/rooms/{room['id']}").json()["room"]["cover"]
    second = cdn_api.call("GET", "/v1/rooms?status=scheduled").json()["items"]
    assert first == f"{CDN}/{key}" and "X-Amz" not in first
    assert [r["cover"] for r in second if r["id"] == room["id"]] == [first]
    # a new upload is a new key (the old one is never rewritten: caches may keep it)
    slot2, _ = _upload(cdn_api, token, room["id"], "image/png", PNG + b"2")
    again = cdn_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=token,
                         json_body={"upload_id": slot2["upload_id"]})
    assert again.json()["cover"] == f"{CDN}/covers/{room['id']}/{slot2['upload_id']}" != first
    assert seeded.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read() == PNG
    # a cover URL sent with PATCH replaces the upload (and its CDN link)
    patched = cdn_api.call("PATCH", f"/v1/rooms/{room['id']}", token=token,
                           json_body={"cover": "https://img.example.com/other.jpg"})
    assert patched.json()["cover"] == "https://img.example.com/other.jpg"


def test_test_room_keeps_the_presigned_link_until_made_public(cdn_api, tokens_for, seeded):
    token = tokens_for("host-1")
    room = _create(cdn_api, token, visibility="test")
    slot, _ = _upload(cdn_api, token, room["id"], "image/png", PNG)
    done = cdn_api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=token, json_body={"upload_id": slot["upload_id"]})
    assert done.status == 200, done.body
    private = done.json()["cover"]
    assert not private.startswith(CDN) and "ignature=" in private and requests.get(private).content == PNG
    key = f"covers/{room['id']}/{slot['upload_id']}"
    assert key not in _public_keys(seeded)          # nothing of a test room reaches the public bucket
    # test -> public: copied, then linked by the CDN URL
    made_public = cdn_api.call("PATCH", f"/v1/rooms/{room['id']}", token=token, json_body={"visibility": "public"})
    assert made_public.status == 200, made_public.body
    assert made_public.json()["cover"] == f"{CDN}/{key}"
    assert seeded.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read() == PNG
    # public -> test again: back to the private presigned link (the copy stays: no Delete grant; docs)
    back = cdn_api.call("PATCH", f"/v1/rooms/{room['id']}", token=token, json_body={"visibility": "test"})
    assert back.status == 200 and "ignature=" in back.json()["cover"], back.body


def test_no_cdn_configured_keeps_presigned_links(api, tokens_for, ivs_env, seeded):
    token = tokens_for("host-1")
    room = _create(api, token)
    slot, _ = _upload(api, token, room["id"], "image/png", PNG)
    done = api.call("PUT", f"/v1/rooms/{room['id']}/cover", token=token, json_body={"upload_id": slot["upload_id"]})
    assert done.status == 200 and "ignature=" in done.json()["cover"], done.body
    assert f"covers/{room['id']}/{slot['upload_id']}" not in _public_keys(seeded)

"""GET /v1/rooms/{room_id}/moderation: the room's muted and banned viewers, for the console's
unmute / unban list (whoever set them, kept across reloads), on moto."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def _pages(api, token, room, limit):
    seen, cursor, pages = [], None, 0
    while True:
        path = f"/v1/rooms/{room}/moderation?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answer = api.call("GET", path, token=token)
        assert answer.status == 200, answer.body
        body = answer.json()
        seen.extend(body["items"])
        pages += 1
        cursor = body["cursor"]
        if not cursor:
            return seen, pages


def test_the_room_lists_its_mutes_and_bans_paged(api, tokens_for, room):
    host, operator = tokens_for("host-1"), tokens_for("operator-1")
    # Senders whose danmaku state lives beside the mutes and bans (MOD# items): never listed.
    for n in range(3):
        assert api.call("POST", f"/v1/rooms/{room}/danmaku", token=api.login(f"talker-{n}"),
                        json_body={"text": f"问题{n}"}).status == 201
    assert api.call("PUT", f"/v1/rooms/{room}/mutes/viewer-1", token=host,
                    json_body={"duration_seconds": 600}).status == 200
    assert api.call("PUT", f"/v1/rooms/{room}/bans/viewer-2", token=operator,       # another moderator
                    json_body={"reason": "广告"}).status == 200
    assert api.call("PUT", f"/v1/rooms/{room}/mutes/viewer-5", token=host,
                    json_body={"duration_seconds": 60}).status == 200
    assert api.call("DELETE", f"/v1/rooms/{room}/mutes/viewer-5", token=host).status == 200   # lifted: gone
    assert api.call("PUT", f"/v1/rooms/{room}/bans/viewer-6", token=host, json_body={}).status == 200
    assert api.call("DELETE", f"/v1/rooms/{room}/bans/viewer-6", token=host).status == 200    # lifted: gone

    listed, pages = _pages(api, host, room, limit=1)
    assert pages >= 2                                     # one per page, a cursor between them
    by_user = {i["user_id"]: i for i in listed}
    assert set(by_user) == {"viewer-1", "viewer-2"}
    assert by_user["viewer-1"]["muted_until"] and by_user["viewer-1"]["banned"] is False
    assert by_user["viewer-1"]["updated_by"] == "host-1"
    assert by_user["viewer-2"] == {**by_user["viewer-2"], "banned": True, "muted_until": None, "reason": "广告",
                                   "updated_by": "operator-1"}
    whole = api.call("GET", f"/v1/rooms/{room}/moderation", token=operator).json()
    assert [i["user_id"] for i in whole["items"]] == ["viewer-1", "viewer-2"] and whole["cursor"] is None

    # A moderating assistant reads it too; a viewer and another host do not.
    assistant = tokens_for("viewer-3")     # logged in once: the user exists
    assert api.call("PUT", f"/v1/rooms/{room}/assistants/viewer-3", token=host,
                    json_body={"capabilities": ["moderate"]}).status in (200, 201)
    assert api.call("GET", f"/v1/rooms/{room}/moderation", token=assistant).status == 200
    assert api.call("GET", f"/v1/rooms/{room}/moderation", token=tokens_for("viewer-1")).status == 403
    assert api.call("GET", f"/v1/rooms/{room}/moderation", token=tokens_for("host-2")).status == 403
    # Bad input: a cursor this list did not give out, a limit out of range.
    bad = api.call("GET", f"/v1/rooms/{room}/moderation?cursor=abc.def", token=host)
    assert bad.status == 422 and bad.json()["code"] == "invalid_cursor"
    assert api.call("GET", f"/v1/rooms/{room}/moderation?limit=0", token=host).status == 422


def test_an_expired_mute_is_not_listed(api, tokens_for, room):
    import time

    from livecommerce.interaction import repository

    host = tokens_for("host-1")
    assert api.call("PUT", f"/v1/rooms/{room}/mutes/viewer-2", token=host,
                    json_body={"duration_seconds": 60}).status == 200
    repository.set_moderation(room, "viewer-1", by="host-1", muted_until=int(time.time()) - 5)   # ran out
    listed = api.call("GET", f"/v1/rooms/{room}/moderation", token=host).json()["items"]
    assert [i["user_id"] for i in listed] == ["viewer-2"]

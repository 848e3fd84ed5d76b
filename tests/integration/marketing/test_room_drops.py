"""A room's coupon drops for its console (GET /v1/rooms/{room_id}/coupon-drops) and the drop's end
when its last coupon is claimed (CouponDropExhausted, once), on moto."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.commerce_fixtures import future

pytestmark = pytest.mark.integration


def test_the_room_lists_its_drops_scheduled_open_and_exhausted(shop, bus):
    room_id = shop.room()
    tpl = shop.template(room_id, total=10, kind="no_threshold", amount=300, threshold=0, name="3元券")
    soon = shop.drop(room_id, tpl["id"], quantity=2)
    later = shop.drop(room_id, tpl["id"], quantity=3, drops_at=future(3600))
    other_room = shop.room()
    shop.drop(other_room, shop.template(other_room, total=5)["id"], quantity=1)   # not this room's

    def listed(user="host-1", **query):
        path = f"/v1/rooms/{room_id}/coupon-drops" + ("?" + "&".join(f"{k}={v}" for k, v in query.items())
                                                      if query else "")
        return shop.call("GET", path, user)

    page = shop.ok(listed())
    assert [d["id"] for d in page["items"]] == [later["id"], soon["id"]]         # newest first
    assert [d["state"] for d in page["items"]] == ["scheduled", "open"] and page["cursor"] is None
    assert page["items"][1]["left"] == 2 and page["items"][0]["drops_at"] == later["drops_at"]
    first = shop.ok(listed(limit=1))
    assert [d["id"] for d in first["items"]] == [later["id"]] and first["cursor"]
    second = shop.ok(listed(limit=1, cursor=first["cursor"]))
    assert [d["id"] for d in second["items"]] == [soon["id"]]

    # Two viewers claim the two coupons at once (and a third is too late): the drop is exhausted,
    # announced exactly once, and listed so.
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda user: shop.claim(user, soon["id"]), ["viewer-1", "viewer-2", "viewer-5"]))
    assert sorted(a.status for a in answers) == [201, 201, 409]
    again = shop.claim("viewer-6", soon["id"])
    assert again.status == 409 and again.json()["code"] == "drop_exhausted"
    ends = [d for t, d, _ in bus if t == "CouponDropExhausted"]
    assert len(ends) == 1 and ends[0]["drop_id"] == soon["id"] and ends[0]["room_id"] == room_id
    assert ends[0]["quantity"] == 2
    assert [d["state"] for d in shop.ok(listed())["items"]] == ["scheduled", "exhausted"]

    # Who may read it: the host, operators; not a viewer nor another host; bad input is a problem.
    assert listed("operator-1").status == 200
    assert listed("viewer-1").status == 403 and listed("host-2").status == 403
    bad = listed(cursor="abc.def")
    assert bad.status == 422 and bad.json()["code"] == "invalid_cursor"
    foreign = shop.ok(shop.call("GET", f"/v1/rooms/{other_room}/coupon-drops?limit=1", "host-1"))
    assert foreign["cursor"] is None
    assert listed(limit=1, cursor=first["cursor"].replace("A", "B", 1) if "A" in first["cursor"] else
                  first["cursor"][:-1] + ("A" if first["cursor"][-1] != "A" else "B")).status == 422

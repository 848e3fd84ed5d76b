"""Cursors cannot be forged (issue 10, outcome 3): a cursor is signed, bound to the list it
came from and to the caller; anything else (forged, tampered, another user's, another
list's, garbage, huge) is 422 `invalid_cursor` on `query.cursor`, never a 500 or a page of
someone else's data. A real cursor pages through every page."""
from __future__ import annotations

import base64
import json

import pytest

from tests.integration.commerce_fixtures import (commerce_caches, shop, timer_requests)  # noqa: F401 (fixtures)

pytestmark = pytest.mark.integration

# From the issue: {"pk": {"S": "x"}}, the allowed key name with a wrong shape.
ISSUE_CURSOR = "eyJwayI6IHsiUyI6ICJ4In19"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_of(cursor: str) -> dict:
    """The DynamoDB key a cursor carries (before the signature, whatever the format)."""
    return json.loads(_unb64(cursor.split(".")[0]))


def _with_key(cursor: str, key: dict) -> str:
    """The same cursor with another key in it, its signature (if any) kept: a tampering."""
    head, dot, signature = cursor.partition(".")
    return _b64(json.dumps(key, separators=(",", ":"), sort_keys=True).encode()) + dot + signature


def _assert_invalid_cursor(response) -> None:
    assert response.status == 422, (response.status, response.body)
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_cursor", body
    assert [e["field"] for e in body["errors"]] == ["query.cursor"]


def _orders(shop, user: str, count: int) -> tuple[str, list[str]]:
    room_id, (pid,) = shop.listed_room(live_stock=20)
    made = [shop.ok(shop.order(user, room_id, [{"product_id": pid, "quantity": 1}], auto_coupon=False), 201)["id"]
            for _ in range(count)]
    return room_id, made


def _pages(shop, user: str | None, path: str) -> tuple[list[str], list[str]]:
    """Every page of a list, one item at a time: (ids in order, the cursors given out)."""
    ids, cursors, cursor = [], [], None
    for _ in range(20):
        sep = "&" if "?" in path else "?"
        page = shop.ok(shop.call("GET", f"{path}{sep}limit=1" + (f"&cursor={cursor}" if cursor else ""), user))
        ids += [item.get("id") or item.get("room_id") for item in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            return ids, cursors
        cursors.append(cursor)
    raise AssertionError("the list never ended")


def test_a_real_cursor_pages_through_every_page(shop):
    _, made = _orders(shop, "viewer-1", 3)
    ids, cursors = _pages(shop, "viewer-1", "/v1/me/orders")
    assert ids == list(reversed(made))                  # newest first, each order once
    assert len(cursors) >= 2 and all(len(c) <= 1024 for c in cursors)
    rooms = [shop.room() for _ in range(3)]
    for room_id in rooms:
        shop.ok(shop.call("PUT", f"/v1/rooms/{room_id}/reservation", "viewer-2", {}))
    reserved, _ = _pages(shop, "viewer-2", "/v1/me/reservations")
    assert sorted(reserved) == sorted(rooms)
    listed, _ = _pages(shop, None, "/v1/rooms?status=scheduled")
    assert set(rooms) <= set(listed) and len(listed) == len(set(listed))


def test_the_issue_cursor_is_422_not_500(shop):
    _assert_invalid_cursor(shop.call("GET", f"/v1/rooms?status=live&cursor={ISSUE_CURSOR}"))
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/orders?cursor={ISSUE_CURSOR}", "viewer-1"))


def test_a_forged_cursor_with_the_right_key_names_is_refused(shop):
    """Well-formed keys of the right names, made by the client: not a cursor we gave out."""
    forged = {"pk": {"S": "ORDER#01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "sk": {"S": "ORDER"},
              "gsi2pk": {"S": "USER#viewer-1"}, "gsi2sk": {"S": "2026-01-01T00:00:00Z#01ARZ3NDEKTSV4RRFFQ69G5FAV"}}
    cursor = _b64(json.dumps(forged).encode())
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/orders?cursor={cursor}", "viewer-1"))
    shapes = [{"pk": {"N": "1"}, "sk": {"S": "x"}, "gsi1pk": {"S": "STATUS#live"}, "gsi1sk": {"S": "x"}},
              {"pk": "ROOM#x", "sk": "ROOM", "gsi1pk": "STATUS#live", "gsi1sk": "x"},
              {"pk": {"S": "x" * 600}, "sk": {"S": "x"}, "gsi1pk": {"S": "STATUS#live"}, "gsi1sk": {"S": "x"}}]
    for shape in shapes:
        cursor = _b64(json.dumps(shape).encode())
        _assert_invalid_cursor(shop.call("GET", f"/v1/rooms?status=live&cursor={cursor}"))


def test_a_tampered_cursor_is_refused(shop):
    _, made = _orders(shop, "viewer-1", 3)
    first = shop.ok(shop.call("GET", "/v1/me/orders?limit=1", "viewer-1"))
    assert first["cursor"]
    key = _key_of(first["cursor"])
    # Skip ahead to the oldest order by editing the key the cursor carries.
    key["pk"] = {"S": f"ORDER#{made[0]}"}
    key["gsi2sk"] = {"S": key["gsi2sk"]["S"].split("#")[0] + f"#{made[0]}"}
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/orders?limit=1&cursor={_with_key(first['cursor'], key)}",
                                     "viewer-1"))
    flipped = first["cursor"][:-2] + ("A" if first["cursor"][-2] != "A" else "B") + first["cursor"][-1]
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/orders?limit=1&cursor={flipped}", "viewer-1"))


def test_another_users_cursor_is_refused(shop):
    _orders(shop, "viewer-1", 2)
    mine = shop.ok(shop.call("GET", "/v1/me/orders?limit=1", "viewer-1"))["cursor"]
    assert mine
    # The same cursor from another caller; and the same key rewritten to the other caller's partition.
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/orders?limit=1&cursor={mine}", "viewer-2"))
    key = _key_of(mine)
    key["gsi2pk"] = {"S": "USER#viewer-2"}
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/orders?limit=1&cursor={_with_key(mine, key)}", "viewer-2"))
    # An unsigned key naming viewer-1's partition, sent by viewer-2 (500 before the fix).
    unsigned = _b64(json.dumps(_key_of(mine)).encode())
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/orders?limit=1&cursor={unsigned}", "viewer-2"))


def test_a_cursor_of_another_list_is_refused(shop):
    _orders(shop, "viewer-1", 2)
    orders_cursor = shop.ok(shop.call("GET", "/v1/me/orders?limit=1", "viewer-1"))["cursor"]
    rooms = [shop.room() for _ in range(2)]
    for room_id in rooms:
        shop.ok(shop.call("PUT", f"/v1/rooms/{room_id}/reservation", "viewer-1", {}))
    reservations_cursor = shop.ok(shop.call("GET", "/v1/me/reservations?limit=1", "viewer-1"))["cursor"]
    scheduled_cursor = shop.ok(shop.call("GET", "/v1/rooms?status=scheduled&limit=1"))["cursor"]
    assert orders_cursor and reservations_cursor and scheduled_cursor
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/reservations?cursor={orders_cursor}", "viewer-1"))
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/orders?cursor={reservations_cursor}", "viewer-1"))
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/coupons?cursor={orders_cursor}", "viewer-1"))
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/points?cursor={orders_cursor}", "viewer-1"))
    # Same table, same index, another partition: the scheduled list's cursor on the ended list.
    _assert_invalid_cursor(shop.call("GET", f"/v1/rooms?status=ended&cursor={scheduled_cursor}"))
    _assert_invalid_cursor(shop.call("GET", f"/v1/rooms?status=live&cursor={scheduled_cursor}"))


@pytest.mark.parametrize("cursor", [
    "garbage", "!!!!", "eyJ", "e30", _b64(b"[1,2,3]"), _b64(b"\xff\xfe\x00"), _b64(b"null"), "a.b", "..",
    _b64(b'{"pk":{"S":"x"}}') + "." + _b64(b"\x00" * 32), "%00", "x" * 1000,
])
def test_garbage_cursors_are_422(shop, cursor):
    _assert_invalid_cursor(shop.call("GET", f"/v1/rooms?status=scheduled&cursor={cursor}"))
    _assert_invalid_cursor(shop.call("GET", f"/v1/me/orders?cursor={cursor}", "viewer-1"))


def test_a_huge_cursor_is_422(shop):
    for path, user in (("/v1/rooms?status=scheduled", None), ("/v1/me/orders?limit=1", "viewer-1"),
                       ("/v1/me/coupons?limit=1", "viewer-1"), ("/v1/me/points?limit=1", "viewer-1"),
                       ("/v1/me/reservations?limit=1", "viewer-1")):
        huge = _b64(json.dumps({"pk": {"S": "x" * 20_000}}).encode())
        response = shop.call("GET", f"{path}&cursor={huge}", user)
        assert response.status == 422, (path, response.status, response.body)
        assert [e["field"] for e in response.json()["errors"]] == ["query.cursor"]

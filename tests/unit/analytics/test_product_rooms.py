"""Which events present a product in a room, and whose rooms a caller's product stats read
(analytics.product_rooms): pure rules."""
from __future__ import annotations

from hypothesis import given, strategies as st

from livecommerce.analytics import product_rooms
from livecommerce.catalog.events import ProductListed, ProductUnlisted, RoomProductsPreset
from livecommerce.orders.events import FlashSaleScheduled

ROOM, P1, P2 = "01JROOM0000000000000000001", "01JPROD0000000000000000001", "01JPROD0000000000000000002"


def test_presenting_events_name_their_rooms_and_products():
    preset = RoomProductsPreset(room_id=ROOM, product_ids=[P1, P2, P1]).detail()
    assert product_rooms.presentations("RoomProductsPreset", preset) == [(ROOM, P1), (ROOM, P2)]
    listed = ProductListed(room_id=ROOM, product_id=P2, name="n", live_price=1, stock_left=3).detail()
    assert product_rooms.presentations("ProductListed", listed) == [(ROOM, P2)]
    sale = FlashSaleScheduled(flash_sale_id="f", room_id=ROOM, product_id=P1, name="n", price=1, list_price=2,
                              stock=3, per_user_limit=1, starts_at="a", ends_at="b", server_time="c").detail()
    assert product_rooms.presentations("FlashSaleScheduled", sale) == [(ROOM, P1)]


def test_other_events_and_broken_details_present_nothing():
    unlisted = ProductUnlisted(room_id=ROOM, product_id=P1, cause="x").detail()
    assert product_rooms.presentations("ProductUnlisted", unlisted) == []
    assert product_rooms.presentations("OrderPaid", {"room_id": ROOM, "product_id": P1}) == []
    assert product_rooms.presentations("ProductListed", {"room_id": ROOM}) == []      # no product: not parsed
    assert product_rooms.presentations("RoomProductsPreset", None) == []


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)


@given(host=ids, other=ids, room=ids)
def test_a_host_reads_only_their_own_rooms_an_operator_every_room(host, other, room):
    own, theirs = product_rooms.sort_key(host, room), product_rooms.sort_key(other, room)
    host_scope = product_rooms.scope_prefix(host, {"host"})
    assert own.startswith(host_scope)
    assert theirs.startswith(host_scope) == (host == other)
    operator_scope = product_rooms.scope_prefix(host, {"host", "operator"})
    assert own.startswith(operator_scope) and theirs.startswith(operator_scope)

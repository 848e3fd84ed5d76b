"""Which rooms presented a product, and whose of them a caller may read: pure rules, no I/O.

A product's statistics read the analytics store by room (Athena's partition projection needs every
query to name its rooms), so analytics keeps its own index of the rooms that presented each product
(analytics.product_room_index, written by the domain-event consumer). A room presented a product
when the product was preset in it (catalog's RoomProductsPreset), put on its shelf (ProductListed)
or put on a flash sale in it (orders' FlashSaleScheduled): the only ways a product gets a card,
impressions, clicks or an order in a room. Presets removed later stay indexed: the product was
there, and its figures are still in the store.
"""
from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from livecommerce.catalog.events import ProductListed, RoomProductsPreset
from livecommerce.orders.events import FlashSaleScheduled

PRESENTING_EVENTS = ("RoomProductsPreset", "ProductListed", "FlashSaleScheduled")
SK_PREFIX = "PRESENTED#"


def presentations(detail_type: str, detail: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(room_id, product_id) pairs the event says were presented; [] for any other event (and for
    a presenting event whose detail does not parse: the producer's model is the contract)."""
    if detail_type not in PRESENTING_EVENTS or not isinstance(detail, dict):
        return []
    try:
        if detail_type == "RoomProductsPreset":
            preset = RoomProductsPreset.parse(detail)
            return [(preset.room_id, p) for p in dict.fromkeys(preset.product_ids)]
        one = (ProductListed if detail_type == "ProductListed" else FlashSaleScheduled).parse(detail)
        return [(one.room_id, one.product_id)]
    except ValidationError:
        return []


def sort_key(host_id: str, room_id: str) -> str:
    """The index item's sort key under PRODUCT#<id>: by host, then room (ULIDs: time order)."""
    return f"{SK_PREFIX}{host_id}#{room_id}"


def scope_prefix(user_id: str, roles: frozenset[str] | set[str]) -> str:
    """The sort-key prefix of the rooms a caller may read a product's sessions in: every room for an
    operator (the shop's staff, who run every room: rooms.rules.can_run), a host's own rooms for a
    host. Callers who are neither never get here (the route requires the host role, 403 otherwise)."""
    if "operator" in roles:
        return SK_PREFIX
    return f"{SK_PREFIX}{user_id}#"

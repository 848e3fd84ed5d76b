"""Catalog: the product library, room presets (live price and stock), listings and cards.

`hot_products(room_id, limit)` is the entry the rooms announcement uses.
"""
from __future__ import annotations


def hot_products(room_id: str, limit: int = 5) -> list[dict]:
    """The room's top products as light cards (name, image, live price, stock left, state)."""
    from livecommerce.catalog.service import hot_products as _hot

    return _hot(room_id, limit=limit)

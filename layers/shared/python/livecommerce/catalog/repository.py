"""Catalog data access: products, presets, stock holds, the catalog outbox."""
from __future__ import annotations

from typing import Iterable

from pynamodb.exceptions import DoesNotExist

from livecommerce.catalog.storage import CatalogOutboxItem, PresetItem, ProductItem, bind_all
from livecommerce.shared.tx import Tx, TxCancelled
from livecommerce.shared.clock import now_iso
from livecommerce.shared import outbox


OUTBOX = outbox.Outbox(CatalogOutboxItem, shards=16, bind=bind_all)


outbox_items = OUTBOX.items


def room_pk(room_id: str) -> str:
    return f"ROOM#{room_id}"


# -- products ---------------------------------------------------------------------

def get_product(product_id: str, *, consistent: bool = False) -> ProductItem | None:
    bind_all()
    try:
        return ProductItem.get(*ProductItem.key(product_id), consistent_read=consistent)
    except DoesNotExist:
        return None


def products(product_ids: Iterable[str]) -> dict[str, ProductItem]:
    bind_all()
    keys = [ProductItem.key(pid) for pid in dict.fromkeys(product_ids)]
    return {item.product_id: item for item in ProductItem.batch_get(keys)} if keys else {}


def put_new_product(item: ProductItem, events: list[outbox.Event]) -> None:
    tx = Tx().put("product", item, ProductItem.pk.does_not_exist())
    for event in outbox_items(item.pk, events):
        tx.put("outbox", event)
    tx.commit()


def save_product_if_version(item: ProductItem, expected_version: int, events: list[outbox.Event]) -> bool:
    item.version = expected_version + 1
    item.updated_at = now_iso()
    tx = Tx().put("product", item, ProductItem.version == expected_version)
    for event in outbox_items(item.pk, events):
        tx.put("outbox", event)
    try:
        tx.commit()
    except TxCancelled:
        return False
    return True


# -- presets ----------------------------------------------------------------------

def presets_of_room(room_id: str, *, consistent: bool = False) -> list[PresetItem]:
    bind_all()
    return list(PresetItem.query(room_pk(room_id), PresetItem.sk.startswith("PRESET#"), consistent_read=consistent))


def presets(room_id: str, product_ids: Iterable[str]) -> dict[str, PresetItem]:
    bind_all()
    keys = [PresetItem.key(room_id, pid) for pid in dict.fromkeys(product_ids)]
    return {item.product_id: item for item in PresetItem.batch_get(keys, consistent_read=True)} if keys else {}


flush_outbox = OUTBOX.flush


sweep_outbox = OUTBOX.sweep


# -- stock holds (used inside the orders transactions) -------------------------------

def add_hold(tx: Tx, room_id: str, product_id: str, quantity: int, *, live_price: int, label: str) -> None:
    """Take `quantity` from a listed preset at the price the order was priced with."""
    bind_all()
    item = PresetItem(*PresetItem.key(room_id, product_id))
    tx.update(label, item,
              actions=[PresetItem.stock_left.add(-quantity), PresetItem.sold.add(quantity)],
              condition=PresetItem.pk.exists() & (PresetItem.listed == True)  # noqa: E712 - PynamoDB condition
              & (PresetItem.stock_left >= quantity) & (PresetItem.live_price == live_price))


def add_release(tx: Tx, room_id: str, product_id: str, quantity: int, *, label: str, to_product: bool) -> None:
    """Give held units back: to the preset, or to the product when the preset was removed since."""
    bind_all()
    if to_product:
        tx.update(label, ProductItem(*ProductItem.key(product_id)), actions=[ProductItem.stock.add(quantity)],
                  condition=ProductItem.pk.exists())
    else:
        tx.update(label, PresetItem(*PresetItem.key(room_id, product_id)),
                  actions=[PresetItem.stock_left.add(quantity), PresetItem.sold.add(-quantity)],
                  condition=PresetItem.pk.exists())


def add_product_allocation(tx: Tx, product_id: str, units: int, *, label: str) -> None:
    """Move `units` out of (positive) or back into (negative) a product's unallocated stock."""
    bind_all()
    item = ProductItem(*ProductItem.key(product_id))
    if units > 0:
        tx.update(label, item, actions=[ProductItem.stock.add(-units)],
                  condition=ProductItem.pk.exists() & (ProductItem.stock >= units))
    elif units < 0:
        tx.update(label, item, actions=[ProductItem.stock.add(-units)], condition=ProductItem.pk.exists())

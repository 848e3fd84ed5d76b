"""Catalog: the product library, room presets (live price and stock), listings and cards.

The public face: what other contexts may call. They get catalog's pydantic
views (`Product`, `Preset`) or plain values, never the catalog table's items;
events are in `livecommerce.catalog.events`. Where an order's DynamoDB
transaction spans contexts (an order holds preset stock, a flash sale allocates
product stock), the functions below add catalog's own items to the caller's
`Tx` under labels, and `stock_failed` reads them back from a cancelled one.

Importing this package stays light (no pynamodb or botocore; its pydantic types only): consumers
import `livecommerce.catalog.events` and the manifest reads `livecommerce.catalog.spec`,
which load it. The functions that touch storage load the service when first
called.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from livecommerce.catalog.models import Preset, Product

if TYPE_CHECKING:
    from livecommerce.shared.tx import Tx, TxCancelled

__all__ = ["Preset", "Product", "hot_products", "find_product", "room_presets_for_order", "hold_stock",
           "release_stock", "allocate_stock", "stock_label", "stock_failed", "PRODUCT_LABEL", "sweep_outbox"]

PRODUCT_LABEL = "product"



def _service():
    from livecommerce.catalog import service  # deferred: pynamodb/botocore, not paid at face import

    return service


def hot_products(room_id: str, limit: int = 5) -> list[dict]:
    """The room's top products as light cards (name, image, live price, stock left, state)."""
    return _service().hot_products(room_id, limit=limit)


def room_cards(room_id: str) -> list[dict]:
    """The room's listed cards (name, image, prices, units left, state) as the public cards route
    shows them, for a room the caller already found visible (the edge snapshot)."""
    from livecommerce.catalog import repository, service  # deferred: pynamodb, not paid at face import

    items = [p for p in sorted(repository.presets_of_room(room_id),
                               key=lambda p: (int(p.display_order or 0), p.product_id)) if p.listed]
    return [service.card_view(p).model_dump() for p in items]


def find_product(product_id: str, *, consistent: bool = False) -> Product | None:
    """The product (name, images, list price, unallocated stock), or None."""
    return _service().find_product(product_id, consistent=consistent)


def room_presets_for_order(room_id: str, product_ids: Iterable[str]) -> dict[str, Preset]:
    """The room's presets of these products (read consistently), by product id; missing ones left out."""
    return _service().presets_for_order(room_id, product_ids)


def stock_label(product_id: str) -> str:
    return f"stock:{product_id}"


def hold_stock(tx: "Tx", room_id: str, product_id: str, quantity: int, *, live_price: int) -> None:
    """Add to `tx`: take `quantity` from a listed preset still at `live_price` (the price the order was
    priced with). Fails under stock_label(product_id) when unlisted, short or repriced."""
    _service().add_hold(tx, room_id, product_id, quantity, live_price=live_price, label=stock_label(product_id))


def release_stock(tx: "Tx", room_id: str, quantities: dict[str, int]) -> None:
    """Add to `tx`: give held units back to the room's presets (to the product when its preset was
    removed since). Labels: stock_label(product_id)."""
    _service().add_releases(tx, room_id, quantities, label=stock_label)


def allocate_stock(tx: "Tx", product_id: str, units: int, *, label: str = PRODUCT_LABEL) -> None:
    """Add to `tx`: move `units` out of the product's unallocated stock (fails under `label` when short)."""
    _service().add_allocation(tx, product_id, units, label=label)


def stock_failed(exc: "TxCancelled") -> bool:
    """Whether a cancelled transaction failed on a stock item catalog added (hold or release)."""
    return exc.any("stock")


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    """Publish catalog events stranded between commit and flush (the commerce schedule)."""
    return _service().sweep_outbox(older_than_seconds=older_than_seconds)

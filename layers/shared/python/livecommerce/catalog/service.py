"""Catalog rules: the product library, room presets, listings and cards. No HTTP here."""
from __future__ import annotations

from typing import Iterable

from livecommerce import rooms
from livecommerce.catalog import repository
from livecommerce.catalog.events import (ProductCreated, ProductListed, ProductUnlisted, ProductUpdated,
                                         RoomProductsPreset, StockChanged)
from livecommerce.catalog.models import (Card, CardList, CreateProductRequest, ListingChange, Preset, PresetList,
                                         PresetsRequest, Product, UpdateProductRequest)
from livecommerce.catalog.storage import PresetItem, ProductItem
from livecommerce.shared.tx import Tx, TxCancelled
from livecommerce.shared import problems
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import now_iso
from livecommerce.shared.ids import new_ulid
from livecommerce.shared.outbox import Event

MAX_ATTEMPTS = 5


# -- views -------------------------------------------------------------------------

def product_view(item: ProductItem) -> Product:
    return Product(id=item.product_id, name=item.name, images=list(item.images or []), description=item.description,
                   list_price=int(item.list_price), stock=int(item.stock or 0),
                   points_price=int(item.points_price) if item.points_price else None,
                   points_limit=(int(item.points_limit or 1) if item.points_price else None),
                   created_at=item.created_at,
                   updated_at=item.updated_at)


def preset_view(item: PresetItem) -> Preset:
    return Preset(room_id=item.room_id, product_id=item.product_id, name=item.name, image=item.image,
                  display_order=int(item.display_order or 0), live_price=int(item.live_price),
                  list_price=int(item.list_price), live_stock=int(item.live_stock),
                  stock_left=max(0, int(item.stock_left)), sold=int(item.sold or 0),
                  promotion_note=item.promotion_note, listed=bool(item.listed), listed_at=item.listed_at)


def card_view(item: PresetItem) -> Card:
    left = max(0, int(item.stock_left))
    state = "preset" if not item.listed else ("sold_out" if left <= 0 else "on_sale")
    return Card(product_id=item.product_id, name=item.name, image=item.image, live_price=int(item.live_price),
                list_price=int(item.list_price), stock_left=left, promotion_note=item.promotion_note, state=state)


def _listing_event(item: PresetItem, **changes) -> ProductListed:
    fields = {"room_id": item.room_id, "product_id": item.product_id, "name": item.name, "image": item.image,
              "live_price": int(item.live_price), "stock_left": max(0, int(item.stock_left)),
              "promotion_note": item.promotion_note}
    return ProductListed(**{**fields, **changes})


def _sorted(items: list[PresetItem]) -> list[PresetItem]:
    return sorted(items, key=lambda p: (int(p.display_order or 0), p.product_id))


# -- products ----------------------------------------------------------------------

def _load_product(product_id: str, *, consistent: bool = False) -> ProductItem:
    item = repository.get_product(product_id, consistent=consistent)
    if item is None:
        raise problems.NotFound("No such product.", code="product_not_found")
    return item


def create_product(caller: Caller, body: CreateProductRequest, *, product_id: str | None = None) -> Product:
    """`product_id`: a fixed id instead of a new one (the local stage's demo products);
    409 product_exists when it is taken."""
    now = now_iso()
    product_id = product_id or new_ulid()
    item = ProductItem(*ProductItem.key(product_id), product_id=product_id, name=body.name, images=body.images,
                       description=body.description, list_price=body.list_price, stock=body.stock,
                       points_price=body.points_price, points_limit=body.points_limit,
                       created_by=caller.user_id, created_at=now, updated_at=now, version=0)
    try:
        repository.put_new_product(item, [ProductCreated(product_id=product_id, name=body.name,
                                                          list_price=body.list_price, stock=body.stock)])
    except TxCancelled as exc:
        if "product" in exc:
            raise problems.Conflict("A product with that id exists.", code="product_exists") from None
        raise
    repository.flush_outbox(item.pk)
    return product_view(item)


def get_product(product_id: str) -> Product:
    return product_view(_load_product(product_id))


def update_product(caller: Caller, product_id: str, body: UpdateProductRequest) -> Product:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise problems.BadRequest("Nothing to change.", code="empty_update")
    for field in ("name", "list_price", "stock", "images"):
        if field in changes and changes[field] is None:
            raise problems.ValidationFailed(f"{field}: cannot be cleared.", errors=[
                {"field": f"body.{field}", "message": "cannot be null", "type": "value_error"}])
    for _ in range(MAX_ATTEMPTS):
        item = _load_product(product_id, consistent=True)
        version = int(item.version or 0)
        for field, value in changes.items():
            setattr(item, field, value)
        events = [ProductUpdated(product_id=product_id, changed=sorted(changes), updated_by=caller.user_id)]
        if repository.save_product_if_version(item, version, events):
            repository.flush_outbox(item.pk)
            return product_view(item)
    raise problems.Conflict("The product is being changed by someone else; retry.", code="concurrent_update",
                            retryable=True)


# -- presets -----------------------------------------------------------------------

def _require_room_host(caller: Caller, room_id: str) -> rooms.RoomRef:
    return rooms.require_room_host(caller, room_id)


def room_presets(caller: Caller, room_id: str) -> PresetList:
    _require_room_host(caller, room_id)
    return PresetList(room_id=room_id, items=[preset_view(p) for p in _sorted(repository.presets_of_room(room_id))])


def replace_presets(caller: Caller, room_id: str, body: PresetsRequest) -> PresetList:
    """Make the room's presets exactly `body.items`; live stock moves between the product and the room."""
    _require_room_host(caller, room_id)
    wanted = {p.product_id: p for p in body.items}
    products = repository.products(wanted)
    missing = sorted(set(wanted) - set(products))
    if missing:
        raise problems.NotFound(f"No such product: {', '.join(missing)}.", code="product_not_found",
                                product_ids=missing)
    for _ in range(MAX_ATTEMPTS):
        current = {p.product_id: p for p in repository.presets_of_room(room_id, consistent=True)}
        tx = Tx()
        events: list[Event] = []
        now = now_iso()
        for product_id, want in wanted.items():
            product = products[product_id]
            old = current.get(product_id)
            image = (product.images or [None])[0]
            if old is None:
                item = PresetItem(*PresetItem.key(room_id, product_id), room_id=room_id, product_id=product_id,
                                  name=product.name, image=image, list_price=int(product.list_price),
                                  display_order=want.display_order, live_price=want.live_price,
                                  live_stock=want.live_stock, stock_left=want.live_stock, sold=0,
                                  promotion_note=want.promotion_note, listed=False, updated_at=now)
                tx.put(f"preset:{product_id}", item, PresetItem.pk.does_not_exist())
                repository.add_product_allocation(tx, product_id, want.live_stock, label=f"product:{product_id}")
                continue
            delta = want.live_stock - int(old.live_stock)
            condition = PresetItem.live_stock == int(old.live_stock)
            if delta < 0:
                condition = condition & (PresetItem.stock_left >= -delta)
            actions = [PresetItem.display_order.set(want.display_order), PresetItem.live_price.set(want.live_price),
                       PresetItem.live_stock.set(want.live_stock), PresetItem.name.set(product.name),
                       PresetItem.list_price.set(int(product.list_price)), PresetItem.updated_at.set(now)]
            actions.append(PresetItem.image.set(image) if image else PresetItem.image.remove())
            actions.append(PresetItem.promotion_note.set(want.promotion_note) if want.promotion_note
                           else PresetItem.promotion_note.remove())
            if delta:
                actions.append(PresetItem.stock_left.add(delta))
            tx.update(f"preset:{product_id}", PresetItem(*PresetItem.key(room_id, product_id)), actions, condition)
            repository.add_product_allocation(tx, product_id, delta, label=f"product:{product_id}")
            if old.listed and delta:
                events.append(StockChanged(room_id=room_id, product_id=product_id, delta=delta,
                                           stock_left=max(0, int(old.stock_left) + delta), cause="preset"))
            if old.listed and int(old.live_price) != want.live_price:
                events.append(_listing_event(old, live_price=want.live_price,
                                             stock_left=max(0, int(old.stock_left) + delta), cause="price_changed"))
        for product_id, old in current.items():
            if product_id in wanted:
                continue
            left = max(0, int(old.stock_left))
            tx.delete(f"preset:{product_id}", old,
                      (PresetItem.live_stock == int(old.live_stock)) & (PresetItem.stock_left == int(old.stock_left)))
            repository.add_product_allocation(tx, product_id, -left, label=f"product:{product_id}")
            if old.listed:
                events.append(ProductUnlisted(room_id=room_id, product_id=product_id, cause="preset_removed"))
        events.append(RoomProductsPreset(room_id=room_id, product_ids=list(wanted)))
        for event in repository.outbox_items(repository.room_pk(room_id), events):
            tx.put("outbox", event)
        if len(tx) > Tx.MAX_ITEMS:
            raise problems.ValidationFailed("Too many preset changes at once; change fewer products per call.",
                                            code="too_many_changes", errors=[])
        try:
            tx.commit()
        except TxCancelled as exc:
            short = sorted(label.split(":", 1)[1] for label in exc.failed if label.startswith("product:"))
            if short:
                raise problems.Conflict("Not enough unallocated stock for: " + ", ".join(short) + ".",
                                        code="insufficient_stock", product_ids=short) from exc
            continue  # a preset changed under us (orders, another editor): read again
        repository.flush_outbox(repository.room_pk(room_id))
        return PresetList(room_id=room_id,
                          items=[preset_view(p) for p in _sorted(repository.presets_of_room(room_id, consistent=True))])
    # Still failing after fresh reads: live stock cannot drop below what is already sold or held.
    raise problems.Conflict("Presets changed while saving, or a live stock is below the units already sold; "
                            "reload and retry.", code="concurrent_update", retryable=True)


# -- listing -----------------------------------------------------------------------

def set_listing(caller: Caller, room_id: str, product_id: str | None, listed: bool) -> ListingChange:
    """Put one product (or, with product_id None, every preset) on or off the shelf. Repeats are no-ops.
    The room's assistants with `list_products` may (presets, prices and stock stay the host's)."""
    rooms.require_room_staff(caller, room_id, "list_products")
    for _ in range(MAX_ATTEMPTS):
        current = repository.presets_of_room(room_id, consistent=True)
        if product_id is not None:
            current = [p for p in current if p.product_id == product_id]
            if not current:
                raise problems.NotFound("That product is not preset in this room.", code="preset_not_found")
        elif not current:
            raise problems.Conflict("The room has no presets; PUT /v1/rooms/{room_id}/products first.",
                                    code="no_presets")
        to_change = [p for p in current if bool(p.listed) != listed]
        if not to_change:
            return ListingChange(room_id=room_id, changed=[], listed=listed)
        now = now_iso()
        tx = Tx()
        events: list[Event] = []
        for item in to_change:
            target = PresetItem(*PresetItem.key(room_id, item.product_id))
            if listed:
                tx.update(f"preset:{item.product_id}", target,
                          [PresetItem.listed.set(True), PresetItem.listed_at.set(now), PresetItem.updated_at.set(now)],
                          PresetItem.pk.exists() & (PresetItem.listed == False))  # noqa: E712
                item.listed_at = now
                events.append(_listing_event(item))
            else:
                tx.update(f"preset:{item.product_id}", target,
                          [PresetItem.listed.set(False), PresetItem.updated_at.set(now)],
                          PresetItem.pk.exists() & (PresetItem.listed == True))  # noqa: E712
                events.append(ProductUnlisted(room_id=room_id, product_id=item.product_id, cause="host"))
        for event in repository.outbox_items(repository.room_pk(room_id), events):
            tx.put("outbox", event)
        try:
            tx.commit()
        except TxCancelled:
            continue
        repository.flush_outbox(repository.room_pk(room_id))
        return ListingChange(room_id=room_id, changed=[p.product_id for p in to_change], listed=listed)
    raise problems.Conflict("The listing is being changed by someone else; retry.", code="concurrent_update",
                            retryable=True)


def cards(caller: Caller | None, room_id: str) -> CardList:
    """The room's cards, for whoever may see the room (a test room's: those who run it). Viewers
    poll them through the live: the room copy may be a second old."""
    rooms.require_visible(room_id, caller, cached=True)
    items = [p for p in _sorted(repository.presets_of_room(room_id)) if p.listed]
    return CardList(room_id=room_id, items=[card_view(p) for p in items])


def hot_products(room_id: str, *, limit: int = 5) -> list[dict]:
    """Best sellers first, then display order; presets count too (announcements come before the live)."""
    items = sorted(repository.presets_of_room(room_id),
                   key=lambda p: (-int(p.sold or 0), not p.listed, int(p.display_order or 0), p.product_id))
    return [card_view(p).model_dump() for p in items[:max(0, limit)]]


# -- for other contexts (through the face, livecommerce.catalog) ----------------------------

def find_product(product_id: str, *, consistent: bool = False) -> Product | None:
    item = repository.get_product(product_id, consistent=consistent)
    return product_view(item) if item is not None else None


def presets_for_order(room_id: str, product_ids: Iterable[str]) -> dict[str, Preset]:
    return {pid: preset_view(item) for pid, item in repository.presets(room_id, product_ids).items()}


def add_hold(tx: Tx, room_id: str, product_id: str, quantity: int, *, live_price: int, label: str) -> None:
    repository.add_hold(tx, room_id, product_id, quantity, live_price=live_price, label=label)


def add_releases(tx: Tx, room_id: str, quantities: dict[str, int], *, label) -> None:
    """Held units go back to their presets; to the product when the preset was removed since."""
    present = repository.presets(room_id, list(quantities))
    for pid, qty in quantities.items():
        repository.add_release(tx, room_id, pid, qty, label=label(pid), to_product=pid not in present)


def add_allocation(tx: Tx, product_id: str, units: int, *, label: str) -> None:
    repository.add_product_allocation(tx, product_id, units, label=label)


def sweep_outbox(*, older_than_seconds: int = 30) -> int:
    return repository.sweep_outbox(older_than_seconds=older_than_seconds)

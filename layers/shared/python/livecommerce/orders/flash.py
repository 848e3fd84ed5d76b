"""Flash sales: a countdown, sharded stock, per-user limits, no oversell.

Stock lives in `shards` items (FLASHSTOCK#<sale>#<k>), each its own partition.
A buy picks the shards in random order and commits, in one transaction, a
conditional decrement of one shard, the buyer's counter (never past the
per-user limit), the order, the Idempotency-Key record and the OrderCreated
event. When every shard refuses a one-unit buy the sale is marked sold out on
its META item (conditioned on no unit having been given back since the buyer
read it), and later buyers are answered from that mark, read from a
container-local cache, without touching the stock items.

Timed steps, announced to the room at the second (shared.timers): a scheduled
sale's final countdown (FlashSaleCountdown, FLASH_COUNTDOWN_SECONDS before it
opens), its start (FlashSaleStarted) and, for every sale, its end
(FlashSaleEnded). The next step and its time sit on the sale item, in a sparse
index by time; each step is one conditional transaction with its event, so it
runs once whoever gets there first: the timer, or the minute tick if the timer
was lost. None is ever announced early.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from livecommerce import catalog, rooms
from livecommerce.orders import pricing, repository, sharding
from livecommerce.orders.events import (FlashSaleCountdown, FlashSaleEnded, FlashSaleScheduled, FlashSaleSoldOut,
                                        FlashSaleStarted)
from livecommerce.orders.models import CreateFlashSaleRequest, FlashBuyRequest, FlashSale, FlashSaleList, Order
from livecommerce.orders.service import new_order_item, order_created, order_view, replayed_order
from livecommerce.orders.settings import get_commerce_settings
from livecommerce.orders.storage import FlashBuyerItem, FlashSaleItem, FlashShardItem, OrderItem, bind_all
from livecommerce.shared import idempotency, problems, timers
from livecommerce.shared.events import DomainEvent
from livecommerce.shared.idempotency import Effect
from livecommerce.shared.tx import Tx, TxCancelled
from livecommerce.shared.api import Caller
from livecommerce.shared.clock import iso, utcnow
from livecommerce.shared.ids import new_ulid

MAX_START_AHEAD = timedelta(days=7)
# How long a container trusts what it read of a sale (the sold-out mark above all).
CACHE_SECONDS = 0.5
SOLD_OUT_CACHE_SECONDS = 2.0

_cache: dict[str, tuple[float, FlashSaleItem]] = {}
_cache_lock = threading.Lock()


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _sale(sale_id: str) -> FlashSaleItem:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(sale_id)
    if hit is not None:
        age = now - hit[0]
        if age < (SOLD_OUT_CACHE_SECONDS if hit[1].sold_out else CACHE_SECONDS):
            return hit[1]
    item = repository.get_sale(sale_id)
    if item is None:
        raise problems.NotFound("No such flash sale.", code="flash_sale_not_found")
    with _cache_lock:
        _cache[sale_id] = (now, item)
    return item


def _remember_sold_out(item: FlashSaleItem) -> None:
    item.sold_out = True
    with _cache_lock:
        _cache[item.sale_id] = (time.monotonic(), item)


def _state(item: FlashSaleItem, now: datetime, left: int | None = None) -> str:
    if now < _parse(item.starts_at):
        return "scheduled"
    if now >= _parse(item.ends_at):
        return "ended"
    if item.sold_out or left == 0:
        return "sold_out"
    return "on_sale"


def sale_view(item: FlashSaleItem, *, with_stock: bool = True) -> FlashSale:
    now = utcnow()
    left = 0
    if with_stock and not item.sold_out:
        left = sharding.total_left(repository.shard_lefts(item.sale_id, int(item.shards)))
    return FlashSale(id=item.sale_id, room_id=item.room_id, product_id=item.product_id, name=item.name,
                     image=item.image, price=int(item.price), list_price=int(item.list_price), stock=int(item.stock),
                     stock_left=left, per_user_limit=int(item.per_user_limit), starts_at=item.starts_at,
                     ends_at=item.ends_at, state=_state(item, now, left if with_stock else None),
                     server_time=iso(now))


def _event(kind: type[DomainEvent], item: FlashSaleItem, **extra) -> DomainEvent:
    return kind(**_sale_fields(item), **extra)


def _sale_fields(item: FlashSaleItem) -> dict:
    """The sale as every flash-sale event carries it (orders.events._FlashSaleFields)."""
    return {"flash_sale_id": item.sale_id, "room_id": item.room_id, "product_id": item.product_id,
            "name": item.name, "image": item.image, "price": int(item.price), "list_price": int(item.list_price),
            "stock": int(item.stock), "per_user_limit": int(item.per_user_limit), "starts_at": item.starts_at,
            "ends_at": item.ends_at}


# -- timed steps ------------------------------------------------------------------------

def _first_step(starts: datetime, ends: datetime, now: datetime) -> tuple[str, datetime]:
    countdown = timedelta(seconds=get_commerce_settings().flash_countdown_seconds)
    if starts > now:
        return ("countdown", starts - countdown) if starts - countdown > now else ("start", starts)
    return "end", ends


def _step_after(step: str, item: FlashSaleItem) -> tuple[str, datetime] | None:
    if step == "countdown":
        return "start", _parse(item.starts_at)
    if step == "start":
        return "end", _parse(item.ends_at)
    return None


def next_step(item: FlashSaleItem) -> tuple[str, datetime] | None:
    """The sale's pending timed step and when it is due (None: all done)."""
    if item.next_step and item.next_at:
        return item.next_step, _parse(item.next_at)
    if item.gsi1pk:                     # written before steps had names: only the start was timed
        return "start", _parse(item.starts_at)
    return None


def _pending_index(sale_id: str, at: datetime) -> tuple[str, str]:
    return repository.SALE_START_PENDING, f"{int(at.timestamp()):012d}#{sale_id}"


def _step_event(step: str, item: FlashSaleItem, now: datetime) -> DomainEvent:
    if step == "countdown":
        left = max(0, round((_parse(item.starts_at) - now).total_seconds()))
        return _event(FlashSaleCountdown, item, seconds_to_start=left, server_time=iso(now))
    if step == "start":
        return _event(FlashSaleStarted, item, scheduled=True)
    left = 0 if item.sold_out else sharding.total_left(repository.shard_lefts(item.sale_id, int(item.shards)))
    return _event(FlashSaleEnded, item, stock_left=left, sold_out=left == 0)


def run_step(sale_id: str, now: datetime) -> timers.StepResult:
    """Run the sale's pending step if it is due: its state moves to the following step and
    its event goes out in one transaction, once. (A timer runner, shared.timers; orders.jobs.)"""
    item = repository.get_sale(sale_id, consistent=True)
    pending = next_step(item) if item is not None else None
    if pending is None:
        return timers.StepResult(None, None)
    step, at = pending
    if now < at:
        return timers.StepResult(None, at)
    following = _step_after(step, item)
    if following is not None:
        pk, sk = _pending_index(sale_id, following[1])
        actions = [FlashSaleItem.next_step.set(following[0]), FlashSaleItem.next_at.set(iso(following[1])),
                   FlashSaleItem.gsi1pk.set(pk), FlashSaleItem.gsi1sk.set(sk)]
    else:
        actions = [FlashSaleItem.next_step.remove(), FlashSaleItem.next_at.remove(),
                   FlashSaleItem.gsi1pk.remove(), FlashSaleItem.gsi1sk.remove()]
    if item.next_step:
        condition = FlashSaleItem.next_step == step
    else:
        condition = FlashSaleItem.gsi1pk.exists() & FlashSaleItem.next_step.does_not_exist()
    tx = Tx().update("sale", FlashSaleItem(*FlashSaleItem.key(sale_id)), actions, condition)
    for event in repository.outbox_items(item.pk, [_step_event(step, item, now)]):
        tx.put("outbox", event)
    following_at = following[1] if following is not None else None
    try:
        tx.commit()
    except TxCancelled:
        return timers.StepResult(None, following_at)      # run by another timer or the tick
    repository.flush_outbox(item.pk)
    return timers.StepResult(step, following_at)


def run_due_steps(now: datetime | None = None) -> int:
    """The minute tick: run overdue steps (their timer was lost) and ask for timers for the
    steps of the next TIMER_LEAD_SECONDS. Returns how many steps ran."""
    now = now or utcnow()
    ran = 0
    for item in repository.pending_sale_steps(before_epoch=now.timestamp() + timers.TIMER_LEAD_SECONDS):
        pending = next_step(item)
        if pending is None:
            continue
        if pending[1] > now:
            timers.request("flash_sale", item.sale_id, pending[1], now=now)
            continue
        result = run_step(item.sale_id, now)
        if result.ran is not None:
            ran += 1
            timers.request("flash_sale", item.sale_id, result.next_at, now=now)
    return ran


# -- create and read --------------------------------------------------------------------

def create_flash_sale(caller: Caller, room_id: str, body: CreateFlashSaleRequest) -> FlashSale:
    room = rooms.require_room_host(caller, room_id)
    if room.status == "ended":
        raise problems.Conflict("The room has ended.", code="room_ended")
    product = catalog.find_product(body.product_id, consistent=True)
    if product is None:
        raise problems.NotFound("No such product.", code="product_not_found")
    now = utcnow()
    starts = now
    if body.starts_at is not None:
        if body.starts_at - now > MAX_START_AHEAD:
            raise problems.ValidationFailed("starts_at: at most 7 days ahead.", errors=[
                {"field": "body.starts_at", "message": "too far ahead", "type": "value_error"}])
        starts = max(now, body.starts_at)
    ends = starts + timedelta(seconds=body.duration_seconds)
    shards = sharding.shards_for(body.stock, body.expected_orders_per_second)
    sale_id = new_ulid()
    bind_all()
    item = FlashSaleItem(*FlashSaleItem.key(sale_id), sale_id=sale_id, room_id=room_id, host_id=room.host_id,
                         product_id=product.id, name=product.name, image=(product.images or [None])[0],
                         price=body.price, list_price=int(product.list_price), stock=body.stock, shards=shards,
                         per_user_limit=body.per_user_limit, starts_at=iso(starts), ends_at=iso(ends),
                         sold_out=False, restocks=0, created_at=iso(now), gsi2pk=f"ROOMFLASH#{room_id}",
                         expected_rate=body.expected_orders_per_second,
                         gsi2sk=f"{iso(starts)}#{sale_id}")
    scheduled = starts > now
    first_step, first_at = _first_step(starts, ends, now)
    item.next_step, item.next_at = first_step, iso(first_at)
    item.gsi1pk, item.gsi1sk = _pending_index(sale_id, first_at)
    tx = Tx()
    catalog.allocate_stock(tx, product.id, body.stock)
    tx.put("sale", item, FlashSaleItem.pk.does_not_exist())
    for k, units in enumerate(sharding.split_stock(body.stock, shards)):
        tx.put(f"shard:{k}", FlashShardItem(*FlashShardItem.key(sale_id, k), left=units))
    events = [_event(FlashSaleScheduled, item, server_time=iso(now))] if scheduled \
        else [_event(FlashSaleStarted, item)]
    for event in repository.outbox_items(item.pk, events):
        tx.put("outbox", event)
    try:
        tx.commit()
    except TxCancelled as exc:
        raise problems.Conflict(f"The product has only {int(product.stock or 0)} unallocated units.",
                                code="insufficient_stock", product_ids=[product.id]) from exc
    repository.flush_outbox(item.pk)
    timers.request("flash_sale", sale_id, first_at, now=now)     # a step within the minute: on time
    return sale_view(item)


def _no_sale() -> problems.NotFound:
    return problems.NotFound("No such flash sale.", code="flash_sale_not_found")


def get_flash_sale(caller: Caller | None, sale_id: str) -> FlashSale:
    item = repository.get_sale(sale_id)
    if item is None:
        raise _no_sale()
    # a test room's sale: as no sale; the room copy may be a second old (a crowd reads this page)
    rooms.require_visible(item.room_id, caller, cached=True, hidden=_no_sale())
    return sale_view(item)


# A sale's shard count never changes: read once per container (the units-left read is then one BatchGetItem).
_shard_counts: dict[str, int] = {}


def units_left(sale_id: str) -> int | None:
    """The sale's units left now: the sum of its stock shards, read strongly consistent (every buy,
    cancel and expiry committed before the call is counted). None when there is no such sale."""
    shards = _shard_counts.get(sale_id)
    if shards is None:
        item = repository.get_sale(sale_id)
        if item is None:
            return None
        shards = int(item.shards)
        if len(_shard_counts) > 1000:
            _shard_counts.clear()
        _shard_counts[sale_id] = shards
    return sharding.total_left(repository.shard_lefts(sale_id, shards, consistent=True))


def room_flash_sales(caller: Caller | None, room_id: str) -> FlashSaleList:
    rooms.require_visible(room_id, caller, cached=True)   # a room copy up to a second old, as the cards

    return FlashSaleList(items=[sale_view(i) for i in repository.sales_of_room(room_id)])


# -- buy --------------------------------------------------------------------------------

def buy(caller: Caller, sale_id: str, body: FlashBuyRequest, key: str) -> Order:
    fp = idempotency.fingerprint({"kind": "flash_sale", "sale_id": sale_id, **body.model_dump(mode="json")})
    sale = _sale(sale_id)
    # A test room's rehearsal sale is there for its host and operators only; others are answered
    # as for no sale. The room copy may be a second old: a crowd's buys must not all read it.
    rooms.require_visible(sale.room_id, caller, cached=True, hidden=_no_sale())
    now = utcnow()
    state = _state(sale, now)
    if state != "on_sale" or body.quantity > int(sale.per_user_limit):
        # Before refusing, a retry of a buy that went through gets its order. (On the way to a
        # sale the transaction itself finds a retry: its Idempotency-Key record already exists.)
        found = idempotency.replayed("flash", caller.user_id, key, fp)
        if found is not None:
            return replayed_order(found.ref)
    if state == "scheduled":
        raise problems.Conflict("The flash sale has not started.", code="flash_sale_not_started",
                                starts_at=sale.starts_at)
    if state == "ended":
        raise problems.Conflict("The flash sale has ended.", code="flash_sale_ended")
    if state == "sold_out":   # answered from the sale item alone: the stock shards are not touched
        raise problems.Conflict("Sold out.", code="sold_out")
    limit = int(sale.per_user_limit)
    if body.quantity > limit:
        raise problems.Conflict(f"At most {limit} per viewer.", code="per_user_limit", per_user_limit=limit)
    restocks_seen = int(sale.restocks or 0)
    quote = pricing.quote([pricing.Line(sale.product_id, int(sale.price), body.quantity)], [], room_id=sale.room_id,
                          now=now, auto_coupon=False)
    line = {"product_id": sale.product_id, "name": sale.name, "image": sale.image, "unit_price": int(sale.price),
            "quantity": body.quantity, "line_total": quote.subtotal}
    order_id = new_ulid()
    for shard in sharding.probe_order(int(sale.shards)):
        try:
            return idempotency.commit_once(
                "flash", caller.user_id, key, fp,
                build_tx=lambda: _buy_effect(caller, sale, body, order_id, shard, line, quote, limit),
                replay=lambda record: replayed_order(record.ref), check_first=False)
        except TxCancelled as exc:
            if "buyer" in exc:
                raise problems.Conflict(f"At most {limit} per viewer.", code="per_user_limit",
                                        per_user_limit=limit) from exc
            continue   # this shard is empty: try the next
    if body.quantity == 1:
        _mark_sold_out(sale, restocks_seen)
        raise problems.Conflict("Sold out.", code="sold_out")
    raise problems.Conflict(f"Fewer than {body.quantity} units are left together; buy fewer.",
                            code="insufficient_stock")


def _buy_effect(caller: Caller, sale: FlashSaleItem, body: FlashBuyRequest, order_id: str, shard: int,
                line: dict, quote: pricing.Quote, limit: int) -> Effect[Order]:
    """One shard's try: its conditional decrement, the buyer's counter, the order and its event."""
    sale_id = sale.sale_id
    order = new_order_item(order_id=order_id, user_id=caller.user_id, room_id=sale.room_id, kind="flash_sale",
                           lines=[line], quote=quote, address=body.address.model_dump(mode="json"),
                           flash_sale_id=sale_id, flash_shard=shard)
    tx = Tx()
    tx.update("shard", FlashShardItem(*FlashShardItem.key(sale_id, shard)), [FlashShardItem.left.add(-body.quantity)],
              FlashShardItem.pk.exists() & (FlashShardItem.left >= body.quantity))
    tx.update("buyer", FlashBuyerItem(*FlashBuyerItem.key(sale_id, caller.user_id)),
              [FlashBuyerItem.count.add(body.quantity)],
              FlashBuyerItem.count.does_not_exist() | (FlashBuyerItem.count <= limit - body.quantity))
    tx.put("order", order, OrderItem.pk.does_not_exist())
    events = repository.outbox_items(order.pk, [order_created(order)])
    for event in events:
        tx.put("outbox", event)
    return Effect(tx, order_view(order), ref=order_id, after=lambda: repository.flush_new(order.pk, events))


def _mark_sold_out(sale: FlashSaleItem, restocks_seen: int) -> None:
    tx = Tx().update("sale", FlashSaleItem(*FlashSaleItem.key(sale.sale_id)), [FlashSaleItem.sold_out.set(True)],
                     (FlashSaleItem.sold_out == False) & (FlashSaleItem.restocks == restocks_seen))  # noqa: E712
    for event in repository.outbox_items(sale.pk, [_event(FlashSaleSoldOut, sale)]):
        tx.put("outbox", event)
    try:
        tx.commit()
    except TxCancelled:
        return   # marked already, or units came back since: nothing to do
    _remember_sold_out(sale)
    repository.flush_outbox(sale.pk)

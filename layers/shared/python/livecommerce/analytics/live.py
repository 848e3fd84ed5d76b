"""Live figures of a running room (issue 11, outcome 3): use cases.

- `on_lifecycle(event)`: an IoT Core lifecycle event (through the IoT rule on AWS, the local
  broker locally) moves a client's presence in or out, with the room's sharded online counter,
  in one transaction; a viewer's first join counts once toward the cumulative viewers.
- `on_order_paid(detail)`: an OrderPaid counts once (a marker in the same transaction) toward
  the room's orders and GMV and its minute.
- `tick(room_id)`: reads the figures, raises the peak, records the minute's online, and pushes
  them to the room's staff topic (its host, operators and assistants may subscribe to it).
- `run_ticker(...)`: the ticker: while the room is live, a tick every 5 s for about a minute,
  then the function invokes itself again (asynchronously); a lease keeps it to one per room.
- `live_stats(room_id)`: the figures now (GET /v1/rooms/{room_id}/stats/live).
"""
from __future__ import annotations

import json
import os
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from livecommerce import interaction, rooms
from livecommerce.analytics import live_rules
from livecommerce.analytics.live_models import LiveMinute, LiveStats
from livecommerce.analytics.live_storage import LiveItem
from livecommerce.analytics.spec import LIVE_STATS
from livecommerce.orders.events import OrderPaid
from livecommerce.shared import dynamo
from livecommerce.shared.observability import logger
from livecommerce.shared.tx import Tx, TxCancelled

KEEP_SECONDS = 2 * 86_400
TICKER_RUN_SECONDS = 55          # one invocation ticks this long, then hands over to the next


def ticker_run_seconds() -> float:
    """LIVE_TICKER_SECONDS (CDK and the local stack: 55). Unset (tests): 0, a single tick and no
    hand-over, so a RoomStarted delivered in a test does not leave a ticker running."""
    return float(os.environ.get("LIVE_TICKER_SECONDS", "0"))
LEASE_SECONDS = 30


def _table() -> type[LiveItem]:
    return dynamo.bind(LiveItem, LIVE_STATS)


def _expires() -> int:
    return int(time.time()) + KEEP_SECONDS


def _stage() -> str:
    return os.environ["STAGE"]


def _shard(room_id: str, key: str) -> LiveItem:
    return _table()(f"ROOM#{room_id}#SHARD#{live_rules.shard_of(key)}", "COUNTS")


# ------------------------------------------------------------------ presence

def on_lifecycle(event: dict[str, Any]) -> dict[str, int]:
    applied = 0
    for transition in live_rules.transitions(event, _stage()):
        applied += _apply(transition)
    return {"applied": applied}


def _apply(t: live_rules.Transition) -> int:
    model = _table()
    for _ in range(5):                     # a concurrent transition of the same client: read again
        try:
            current = model.get(f"CLIENT#{t.client_id}", "PRESENCE", consistent_read=True)
            presence = {"state": current.state, "at_ms": current.at_ms, "room_id": current.room_id}
        except LiveItem.DoesNotExist:
            current, presence = None, None
        decision = live_rules.decide(t, presence)
        if decision == "ignore":
            return 0
        room_id = t.room_id or (presence or {}).get("room_id")
        item = model(f"CLIENT#{t.client_id}", "PRESENCE", state="in" if t.kind == "join" else "out",
                     at_ms=t.at_ms, room_id=room_id, user_id=t.user_id, expires_at=_expires())
        seen = model.pk.does_not_exist() if current is None else (
            (model.at_ms == current.at_ms) & (model.state == current.state))
        if decision == "refresh":        # newer, same state (or a leave before its join): only the time
            try:
                item.save(condition=seen)
                return 0
            except Exception as exc:  # noqa: BLE001 - PutError: the presence moved meanwhile
                if dynamo.error_code(exc) == "ConditionalCheckFailedException":
                    continue
                raise
        delta = 1 if t.kind == "join" else -1
        # A viewer's first join also counts toward the cumulative viewers, on the same counter item
        # (one transaction may not touch an item twice); if the viewer was seen, without it.
        for first in ((True, False) if t.kind == "join" else (False,)):
            counts = [model.online.add(delta), model.expires_at.set(_expires())]
            tx = Tx().put("presence", item, condition=seen)
            if first:
                tx.put("viewer", model(f"ROOM#{room_id}#VIEWER#{t.user_id}", "SEEN", expires_at=_expires()),
                       condition=model.pk.does_not_exist())
                counts.append(model.cumulative.add(1))
            tx.update("counts", _shard(room_id, t.client_id), actions=counts)
            try:
                tx.commit()
                return 1
            except TxCancelled as cancelled:
                if "presence" in cancelled:
                    break                  # the client moved meanwhile: read it again
                if "viewer" not in cancelled:
                    raise
    return 0


# ------------------------------------------------------------------ orders

def on_order_paid(detail: dict[str, Any]) -> bool:
    paid = OrderPaid.parse(detail)
    assert isinstance(paid, OrderPaid)
    model = _table()
    at = datetime.fromisoformat(paid.paid_at.replace("Z", "+00:00")) if paid.paid_at else datetime.now(timezone.utc)
    tx = Tx().put("order", model(f"ORDER#{paid.order_id}", "COUNTED", room_id=paid.room_id, expires_at=_expires()),
                  condition=model.pk.does_not_exist())
    tx.update("counts", _shard(paid.room_id, paid.order_id), actions=[
        model.orders.add(1), model.gmv.add(paid.total), model.expires_at.set(_expires())])
    tx.update("minute", model(f"ROOM#{paid.room_id}", f"MINUTE#{live_rules.minute_of(at)}"), actions=[
        model.orders.add(1), model.gmv.add(paid.total), model.expires_at.set(_expires())])
    try:
        tx.commit()
        return True
    except TxCancelled as cancelled:
        if "order" in cancelled:
            return False                   # counted before (a redelivery)
        raise


# ------------------------------------------------------------------ figures

def live_stats(room_id: str, *, now: datetime | None = None) -> LiveStats:
    model = _table()
    keys = [(f"ROOM#{room_id}#SHARD#{k}", "COUNTS") for k in range(live_rules.COUNTER_SHARDS)]
    totals = {"online": 0, "cumulative": 0, "orders": 0, "gmv": 0}
    for item in model.batch_get(keys, consistent_read=True):
        for name in totals:
            totals[name] += int(getattr(item, name) or 0)
    peak, peak_at = 0, None
    minutes = []
    for item in model.query(f"ROOM#{room_id}", consistent_read=True):
        if item.sk == "TICKER":
            peak, peak_at = int(item.peak or 0), item.peak_at
        elif item.sk.startswith("MINUTE#"):
            minutes.append(LiveMinute(minute=item.sk.removeprefix("MINUTE#"), online=int(item.online or 0),
                                      orders=int(item.orders or 0), gmv=int(item.gmv or 0)))
    online = max(totals["online"], 0)
    at = now or datetime.now(timezone.utc)
    return LiveStats(room_id=room_id, online=online, peak_online=max(peak, online),
                     peak_at=peak_at if peak >= online else live_rules.minute_of(at),
                     cumulative_viewers=totals["cumulative"], orders=totals["orders"], gmv=totals["gmv"],
                     per_minute=minutes, at=at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def tick(room_id: str, host_id: str, *, now: datetime | None = None) -> LiveStats:
    """Read, raise the peak, record the minute's online, push to the room's staff."""
    at = now or datetime.now(timezone.utc)
    stats = live_stats(room_id, now=at)
    model = _table()
    minute = live_rules.minute_of(at)
    try:
        model(f"ROOM#{room_id}", "TICKER").update(
            actions=[model.peak.set(stats.online), model.peak_at.set(minute), model.expires_at.set(_expires())],
            condition=model.peak.does_not_exist() | (model.peak < stats.online))
    except Exception as exc:  # noqa: BLE001 - UpdateError: the peak is already higher
        if dynamo.error_code(exc) != "ConditionalCheckFailedException":
            raise
    try:
        model(f"ROOM#{room_id}", f"MINUTE#{minute}").update(
            actions=[model.online.set(stats.online), model.expires_at.set(_expires())],
            condition=model.online.does_not_exist() | (model.online < stats.online))
    except Exception as exc:  # noqa: BLE001
        if dynamo.error_code(exc) != "ConditionalCheckFailedException":
            raise
    stats = live_stats(room_id, now=at)
    # the room's staff topic: its host, operators and assistants subscribe (interaction.policy)
    interaction.notify_staff(room_id, {"type": "live_stats", **json.loads(stats.model_dump_json())})
    follow_audience(room_id, stats.online)
    return stats


def follow_audience(room_id: str, online: int) -> None:
    """Hand the count just read to interaction's audience rule (push or poll for the crowd's danmaku
    and like totals): once per tick per room, nothing per viewer. Best effort: the figures still go
    out if it fails, and the next tick (5 s) tries again."""
    try:
        interaction.follow_audience(room_id, online)
    except Exception:  # noqa: BLE001 - any failure of the switch must not stop the figures
        logger.exception("delivery audience rule failed", extra={"room_id": room_id})


def online_now(room_id: str) -> int:
    """The room's live viewer count: one BatchGet of its online counter shards (eventually consistent)."""
    model = _table()
    keys = [(f"ROOM#{room_id}#SHARD#{k}", "COUNTS") for k in range(live_rules.COUNTER_SHARDS)]
    return max(sum(int(item.online or 0) for item in model.batch_get(keys, attributes_to_get=["online"])), 0)


# ------------------------------------------------------------------ the ticker

def _lease(room_id: str, ticker_id: str, now_s: float) -> bool:
    model = _table()
    try:
        model(f"ROOM#{room_id}", "TICKER").update(
            actions=[model.ticker_id.set(ticker_id), model.lease_until.set(int(now_s) + LEASE_SECONDS),
                     model.expires_at.set(_expires())],
            condition=model.lease_until.does_not_exist() | (model.lease_until < int(now_s))
            | (model.ticker_id == ticker_id))
        return True
    except Exception as exc:  # noqa: BLE001
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise


def _release(room_id: str, ticker_id: str) -> None:
    model = _table()
    try:
        model(f"ROOM#{room_id}", "TICKER").update(actions=[model.lease_until.set(0)],
                                                  condition=model.ticker_id == ticker_id)
    except Exception as exc:  # noqa: BLE001
        if dynamo.error_code(exc) != "ConditionalCheckFailedException":
            raise


def run_ticker(room_id: str, host_id: str, ticker_id: str | None = None, *,
               run_seconds: float | None = None, clock: Callable[[], float] = time.time,
               sleep: Callable[[float], None] = time.sleep,
               hand_over: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Tick every 5 s while the room is live, for `run_seconds`; then hand over to a new invocation
    (the same ticker id keeps the lease). A second ticker of the room finds the lease held and stops."""
    ticker_id = ticker_id or uuid.uuid4().hex
    run_seconds = ticker_run_seconds() if run_seconds is None else run_seconds
    started = clock()
    ticks = 0
    while True:
        room = rooms.get_room(room_id, consistent=True)
        if room is None or room.status not in ("live", "interrupted"):
            if room is not None:
                tick(room_id, host_id)      # the last figures, as the room ends
            _release(room_id, ticker_id)
            return {"room_id": room_id, "ticks": ticks, "stopped": "room_not_live"}
        if not _lease(room_id, ticker_id, clock()):
            return {"room_id": room_id, "ticks": ticks, "stopped": "another_ticker"}
        tick(room_id, host_id)
        ticks += 1
        if run_seconds <= 0:
            _release(room_id, ticker_id)
            return {"room_id": room_id, "ticks": ticks, "stopped": "single_tick"}
        if clock() - started + live_rules.TICK_SECONDS > run_seconds:
            handed = (hand_over or _invoke_self)({"room_id": room_id, "host_id": host_id, "ticker_id": ticker_id})
            if handed is False:           # the next run could not be queued: say so (the lease lapses in 30 s)
                logger.error("live ticker could not hand over", extra={"room_id": room_id})
                return {"room_id": room_id, "ticks": ticks, "stopped": "hand_over_failed"}
            return {"room_id": room_id, "ticks": ticks, "stopped": "handed_over"}
        sleep(live_rules.TICK_SECONDS)


def _invoke_self(payload: dict[str, Any]) -> bool:
    from livecommerce.shared import async_invoke  # deferred: boto3, not paid at import

    return async_invoke.invoke_async("live_stats", payload)


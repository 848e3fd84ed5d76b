"""A synthetic live session with known truth, written in the analytics store's Parquet layout.

`synthesize(root, viewers=..., minutes=..., fake_share=...)` writes the `beacons` and `events`
tables of one room (plus an earlier session of the same host) under `root` exactly as the local
Firehose stand-in lays them out (store_schema: <table>/dt=<day>/room_id=<room>/<file>.parquet,
the same pyarrow schema), and returns the figures a correct report must show, computed by the
generator from what it generated (accepted traffic only).

Real viewers enter at some minute, send a heartbeat every 30 s while they watch, leave; some see
cards, click products, order, pay (some with a coupon), send danmaku and likes. Fake traffic, in
`fake_share` of the accounts, is of four kinds the classification must exclude: no playback token
nor realtime connection, impossible heartbeat rates, many accounts on one device, and likes from
accounts that never watched. Columns are built with pyarrow (no Python object per beacon), so
tens of millions of beacons take seconds.
"""
from __future__ import annotations

import json
import random
from array import array
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)
import pyarrow.parquet as pq

from livecommerce.analytics.store_schema import BEACONS, EVENTS

ROOM = "01JROOMBENCH0000000000000A"
EARLIER_ROOM = "01JROOMBENCH0000000000000B"
HOST = "host-bench"
START = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
PRODUCTS = [f"01JP0000000000000000000{i:03d}" for i in range(20)]


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class _Columns:
    def __init__(self, names: tuple[str, ...]) -> None:
        self.cols: dict[str, Any] = {n: [] for n in names}

    def add(self, **values: Any) -> None:
        for name, col in self.cols.items():
            col.append(values.get(name))


def _write(root: Path, table, room_id: str, day: str, arrays: dict[str, pa.Array]) -> None:
    schema = table.pyarrow_schema()
    batch = pa.Table.from_arrays([arrays[f.name].cast(f.type) for f in schema], schema=schema)
    folder = root / table.object_prefix(day, room_id)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(batch, folder / f"{table.name}-bench-{len(list(folder.iterdir()))}.parquet")


def synthesize(root: str | Path, *, viewers: int = 100_000, minutes: int = 120, fake_share: float = 0.1,
               seed: int = 7, room_id: str = ROOM, host_id: str = HOST) -> dict[str, Any]:
    ROOM, HOST = room_id, host_id  # noqa: N806 (the session's room and host)
    root = Path(root)
    rnd = random.Random(seed)
    t0 = _ms(START)
    day = START.strftime("%Y-%m-%d")
    n_fake = int(viewers * fake_share)
    n_real = viewers - n_fake
    ids = [f"u{i:07d}" for i in range(viewers)]

    # --- beacons, column by column: index into ids, time, kind, product, flags
    v_idx, at, kind, product, device, ip, token, realtime = (array("q") for _ in range(8))
    kinds = ("enter", "heartbeat", "leave", "card_impression", "product_click", "share_click")
    truth_watch: dict[str, int] = {}
    online = [set() for _ in range(minutes + 1)]
    clicks: dict[str, int] = defaultdict(int)
    impressions: dict[str, int] = defaultdict(int)
    clicks_by_viewer: dict[int, list[int]] = {}
    shares = views = 0

    def beacon(i: int, ms: int, k: int, p: int = -1, dev: int | None = None, addr: int | None = None,
               tok: int = 1, rt: int = 1) -> None:
        v_idx.append(i); at.append(ms); kind.append(k); product.append(p)
        device.append(i if dev is None else dev); ip.append(i // 20 if addr is None else addr)
        token.append(tok); realtime.append(rt)

    for i in range(n_real):
        enter = rnd.randrange(0, minutes - 1)
        watch_min = rnd.randint(1, minutes - enter)
        beats = 2 * watch_min
        base = t0 + enter * 60_000
        beacon(i, base, 0); views += 1
        for j in range(1, beats + 1):
            beacon(i, base + 30_000 * j, 1)
        for m in range(enter, enter + watch_min + 1):
            online[m].add(i)
        beacon(i, base + 30_000 * beats + 1_000, 2)
        truth_watch[ids[i]] = 30 * beats
        for _ in range(rnd.choice((0, 0, 1, 3))):
            p = rnd.randrange(len(PRODUCTS))
            beacon(i, base + rnd.randrange(0, watch_min * 60_000), 3, p)
            impressions[PRODUCTS[p]] += 1
        if rnd.random() < 0.3:
            picked = [rnd.randrange(len(PRODUCTS)) for _ in range(rnd.randint(1, 2))]
            for p in picked:
                beacon(i, base + rnd.randrange(0, watch_min * 60_000), 4, p)
                clicks[PRODUCTS[p]] += 1
            clicks_by_viewer[i] = picked
        if rnd.random() < 0.05:
            beacon(i, base + 10_000, 5); shares += 1
    fake_reasons: dict[str, int] = defaultdict(int)
    for i in range(n_real, viewers):
        sort = (i - n_real) % 3
        base = t0 + rnd.randrange(0, minutes - 1) * 60_000
        if sort == 0:     # no playback token, no realtime connection
            beacon(i, base, 0, tok=0, rt=0)
            for j in range(1, 21):
                beacon(i, base + 30_000 * j, 1, tok=0, rt=0)
            fake_reasons["no_playback_token"] += 1
        elif sort == 1:   # a bot: a heartbeat every 5 s
            beacon(i, base, 0)
            for j in range(1, 61):
                beacon(i, base + 5_000 * j, 1)
            fake_reasons["heartbeat_rate"] += 1
        else:             # a device farm: 10 accounts per device
            # 10 accounts a device; the last group takes the remainder (never fewer than 10)
            dev = 10_000_000 + min((i - n_real) // 30, max(0, n_fake // 30 - 1))
            beacon(i, base, 0, dev=dev)
            for j in range(1, 21):
                beacon(i, base + 30_000 * j, 1, dev=dev)
            beacon(i, base + 100, 4, rnd.randrange(len(PRODUCTS)), dev=dev)
            fake_reasons["shared_device"] += 1

    n = len(v_idx)
    id_array = pa.array(ids)
    kind_array = pa.array(kinds)
    product_array = pa.array(PRODUCTS + [None])
    prod_idx = pa.array(product, type=pa.int64())
    prod_idx = pa.compute.if_else(pa.compute.less(prod_idx, 0), len(PRODUCTS), prod_idx)
    ms = pa.array(at, type=pa.int64())
    _write(root, BEACONS, ROOM, day, {
        "request_id": pa.compute.cast(pa.array(range(n), type=pa.int64()), pa.string()),
        "seq": pa.array([0] * n, type=pa.int32()),
        "received_at": ms, "client_at": ms,
        "viewer_id": id_array.take(pa.array(v_idx, type=pa.int64())),
        "kind": kind_array.take(pa.array(kind, type=pa.int64())),
        "product_id": product_array.take(prod_idx),
        "play_id": pa.nulls(n, pa.string()),
        "device_id": pa.compute.cast(pa.array(device, type=pa.int64()), pa.string()),
        "source_ip": pa.compute.cast(pa.array(ip, type=pa.int64()), pa.string()),
        "playback_token": pa.compute.cast(pa.array(token, type=pa.int64()), pa.bool_()),
        "realtime": pa.compute.cast(pa.array(realtime, type=pa.int64()), pa.bool_()),
        "position_s": pa.nulls(n, pa.int32()),
    })

    # --- domain events
    ev = _Columns(EVENTS.column_names + ("room_id",))
    seq = iter(range(10**9))

    def event(type_: str, at_ms: int, detail: dict[str, Any], room: str = ROOM, **cols: Any) -> None:
        ev.add(event_id=f"e{next(seq)}", type=type_, source="livecommerce", occurred_at=at_ms,
               detail=json.dumps(detail), room_id=room, **cols)

    event("RoomStarted", t0, {"room_id": ROOM, "host_id": HOST})
    event("RoomEnded", t0 + minutes * 60_000, {"room_id": ROOM, "host_id": HOST})
    per_min = [{"orders": 0, "gmv": 0, "danmaku": 0} for _ in range(minutes + 1)]
    orders = paid = gmv = coupon_users = 0
    sold: dict[str, dict[str, int]] = defaultdict(lambda: {"orders": 0, "units": 0, "gmv": 0})
    payers: set[int] = set()
    orderers: set[int] = set()
    for i, picked in clicks_by_viewer.items():
        if rnd.random() < 0.4:
            p = PRODUCTS[picked[0]]
            qty = rnd.randint(1, 3)
            price = 990 + 100 * picked[0]
            minute = rnd.randrange(0, minutes)
            order_id = f"o{i}"
            coupon = "c1" if rnd.random() < 0.3 else None
            total = qty * price - (100 if coupon else 0)
            detail = {"order_id": order_id, "user_id": ids[i], "room_id": ROOM, "total": total, "coupon_id": coupon,
                      "lines": [{"product_id": p, "quantity": qty, "unit_price": price}]}
            at_ms = t0 + minute * 60_000 + 5_000
            event("OrderCreated", at_ms, detail, user_id=ids[i], amount_fen=total, order_id=order_id)
            orders += 1
            orderers.add(i)
            if rnd.random() < 0.8:
                event("OrderPaid", at_ms + 20_000, detail, user_id=ids[i], amount_fen=total, order_id=order_id)
                paid += 1
                gmv += total
                payers.add(i)
                coupon_users += coupon is not None
                per_min[minute]["orders"] += 1
                per_min[minute]["gmv"] += total
                sold[p]["orders"] += 1
                sold[p]["units"] += qty
                sold[p]["gmv"] += qty * price
    danmaku = likes = 0
    for i in range(0, n_real, 7):
        minute = rnd.randrange(0, minutes)
        event("DanmakuSent", t0 + minute * 60_000 + 1_000, {"room_id": ROOM}, user_id=ids[i])
        per_min[minute]["danmaku"] += 1
        danmaku += 1
        count = rnd.randint(1, 20)
        event("LikesAdded", t0 + minute * 60_000 + 2_000, {"room_id": ROOM, "count": count}, user_id=ids[i])
        likes += count
    raw_likes = likes
    for k in range(max(1, n_fake // 5)):   # likes from accounts that never watched
        event("LikesAdded", t0 + 60_000, {"room_id": ROOM, "count": 50}, user_id=f"ghost{k}")
        raw_likes += 50
    # an earlier session of the same host: some of today's viewers watched it, a few bought
    event("RoomStarted", t0 - 7 * 86_400_000, {"room_id": EARLIER_ROOM, "host_id": HOST}, room=EARLIER_ROOM)
    returning = list(range(0, n_real, 10))
    earlier_buyers = set(returning[::5])
    for i in earlier_buyers:
        event("OrderPaid", t0 - 7 * 86_400_000 + 60_000, {"lines": []}, room=EARLIER_ROOM, user_id=ids[i],
              amount_fen=100, order_id=f"old{i}")
    cols = ev.cols
    by_room: dict[str, list[int]] = defaultdict(list)
    for k, room in enumerate(cols["room_id"]):
        by_room[room].append(k)
    for room, rows in by_room.items():
        when = datetime.fromtimestamp(cols["occurred_at"][rows[0]] / 1000, tz=timezone.utc).strftime("%Y-%m-%d")
        _write(root, EVENTS, room, when, {name: pa.array([cols[name][k] for k in rows]) for name in EVENTS.column_names})
    early_ms = t0 - 7 * 86_400_000
    _write(root, BEACONS, EARLIER_ROOM, (START - timedelta(days=7)).strftime("%Y-%m-%d"), {
        "request_id": pa.array([f"old{i}" for i in returning]), "seq": pa.array([0] * len(returning)),
        "received_at": pa.array([early_ms] * len(returning)), "client_at": pa.array([early_ms] * len(returning)),
        "viewer_id": pa.array([ids[i] for i in returning]), "kind": pa.array(["enter"] * len(returning)),
        "product_id": pa.nulls(len(returning), pa.string()), "play_id": pa.nulls(len(returning), pa.string()),
        "device_id": pa.array([str(i) for i in returning]), "source_ip": pa.array([str(i // 20) for i in returning]),
        "playback_token": pa.array([True] * len(returning)), "realtime": pa.array([True] * len(returning)),
        "position_s": pa.nulls(len(returning), pa.int32())})

    watch = sorted(truth_watch.values())
    real_clickers = len(clicks_by_viewer)
    peak_minute = max(range(minutes + 1), key=lambda m: (len(online[m]), -m))
    return {
        "beacons": n, "unique_viewers": n_real, "views": views, "raw_viewers": viewers,
        "watch_total": sum(watch), "median_watch": (watch[len(watch) // 2] if len(watch) % 2
                                                    else (watch[len(watch) // 2 - 1] + watch[len(watch) // 2]) // 2),
        "watch": truth_watch, "shares": shares, "product_clicks": sum(clicks.values()),
        "card_impressions": sum(impressions.values()), "orders": orders, "paid_orders": paid, "gmv": gmv,
        "coupon_users": coupon_users, "danmaku": danmaku, "likes": likes, "raw_likes": raw_likes,
        "clickers": real_clickers, "orderers": len(orderers), "payers": len(payers),
        "peak_online": len(online[peak_minute]), "peak_minute": peak_minute,
        "online": [len(s) for s in online], "per_minute": per_min, "products": dict(sold),
        "clicks": dict(clicks), "impressions": dict(impressions), "excluded": dict(fake_reasons),
        "repeat_buyers": len(earlier_buyers & payers), "first_time": n_real - len(returning),
        "room_id": ROOM, "host_id": HOST, "start": START, "minutes": minutes,
    }

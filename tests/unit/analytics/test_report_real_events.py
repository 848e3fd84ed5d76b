"""The report over rows made from the REAL event models (LotteryEntered included) (as the producers build them, through
event_rows.row, what the EventBridge -> Firehose path stores), not the generator's rows: the fields
the SQL reads (RoomStarted.host_id, HostFollowed.viewer_id, OrderPaid.total/lines/coupon_id) exist."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from livecommerce.analytics import queries, reports
from livecommerce.analytics.event_rows import row
from livecommerce.analytics.parquet_store import write_records
from livecommerce.engagement.events import LotteryEntered
from livecommerce.identity.events import HostFollowed
from livecommerce.orders.events import EventLine, OrderCreated, OrderPaid
from livecommerce.rooms.events import RoomEnded, RoomStarted

ROOM, EARLIER, HOST, PRODUCT = "01J0000000000000000000ROOM", "01J000000000000000000EARLY", "host-1", "P1"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def envelope(event, at: datetime, n: int) -> dict:
    return {"id": f"ev-{n}", "source": "livecommerce", "detail-type": event.detail_type,
            "time": at.isoformat().replace("+00:00", "Z"), "detail": {**event.detail(), "event_id": f"e{n}"}}


def room_event(model, room: str, at: datetime, n: int) -> dict:
    return envelope(model(room_id=room, host_id=HOST, status="live", scheduled_start=at.isoformat(),
                          visibility="public", previous_status="scheduled", cause="host"), at, n)


def order(model, order_id: str, user: str, total: int, at: datetime, n: int, room: str = ROOM, **extra) -> dict:
    fields = dict(order_id=order_id, user_id=user, room_id=room, kind="room", subtotal=total, discount=0,
                  total=total, lines=[EventLine(product_id=PRODUCT, quantity=1, unit_price=total)], **extra)
    return envelope(model(**fields), at, n)


def beacon(viewer: str, kind: str, at: datetime, room: str = ROOM, **extra) -> dict:
    ms = int(at.timestamp() * 1000)
    return {"request_id": f"r-{viewer}-{ms}-{kind}", "seq": 0, "received_at": ms, "client_at": ms,
            "viewer_id": viewer, "kind": kind, "room_id": room, "play_id": "p", "device_id": f"d-{viewer}",
            "source_ip": f"10.0.0.{len(viewer)}", "playback_token": True, "realtime": True, **extra}


def test_report_reads_the_fields_the_real_events_carry(tmp_path):
    earlier = T0 - timedelta(days=7)
    paid_extra = dict(channel="wechat", transaction_id="tx", paid_at=T0.isoformat())
    events = [
        room_event(RoomStarted, EARLIER, earlier, 1),
        order(OrderPaid, "O0", "v1", 500, earlier + timedelta(minutes=1), 2, room=EARLIER, **paid_extra),
        room_event(RoomStarted, ROOM, T0, 3),
        envelope(HostFollowed(host_id=HOST, viewer_id="v2"), T0 + timedelta(minutes=2), 4),
        envelope(HostFollowed(host_id=HOST, viewer_id="v3"), T0 + timedelta(minutes=3), 5),
        envelope(HostFollowed(host_id="host-2", viewer_id="v3"), T0 + timedelta(minutes=3), 6),   # another host
        envelope(HostFollowed(host_id=HOST, viewer_id="v4"), T0 + timedelta(hours=3), 7),         # after the end
        order(OrderCreated, "O1", "v1", 1990, T0 + timedelta(minutes=4), 8, pay_by=T0.isoformat()),
        order(OrderPaid, "O1", "v1", 1990, T0 + timedelta(minutes=5), 9, coupon_id="C1", **paid_extra),
        envelope(LotteryEntered(lottery_id="L1", room_id=ROOM, user_id="v2", via="entry"), T0 + timedelta(minutes=6), 11),
        room_event(RoomEnded, ROOM, T0 + timedelta(hours=1), 10),
    ]
    write_records(tmp_path, "events", [row(e) for e in events])
    write_records(tmp_path, "beacons", [
        beacon("v1", "enter", earlier, room=EARLIER), beacon("v1", "heartbeat", earlier + timedelta(seconds=30),
                                                             room=EARLIER),
        beacon("v1", "enter", T0), beacon("v1", "heartbeat", T0 + timedelta(seconds=30)),
        beacon("v1", "product_click", T0 + timedelta(seconds=40), product_id=PRODUCT),
        beacon("v2", "enter", T0 + timedelta(minutes=1))])
    report, viewers = reports.compute(ROOM, HOST, engine=queries.DuckDbEngine(tmp_path),
                                      host_room_ids=[ROOM, EARLIER])   # rooms.room_ids_of_host
    s = report.summary
    assert s.new_followers == 2                          # HostFollowed: viewer_id, this host, while live
    assert (s.orders, s.paid_orders, s.gmv) == (1, 1, 1990)
    assert report.started_at == "2026-05-01T12:00:00Z" and report.ended_at == "2026-05-01T13:00:00Z"
    tags = {v.user_id: v.tags for v in viewers}
    assert {"buyer", "repeat_buyer", "coupon_user"} <= set(tags["v1"])   # RoomStarted.host_id finds the earlier room
    assert "first_time_viewer" in tags["v2"] and "first_time_viewer" not in tags["v1"]
    assert "lottery_only" in tags["v2"] and "lottery_only" not in tags["v1"]      # LotteryEntered.user_id
    assert [(p.product_id, p.orders, p.units, p.gmv, p.clicks) for p in report.products] == [(PRODUCT, 1, 1, 1990, 1)]

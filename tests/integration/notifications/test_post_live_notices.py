"""Post-live notices on moto: a room ends, its replay gets ready, the notice_triggers consumer moves
the runs' one-time schedules, the local scheduler fires them on an injected clock, moto executes
statemachines/non_buyer_notice.asl.json and order_summary_notice.asl.json, whose Lambda tasks
run the real notice_tasks handler: each audience is ONE analytics query (DuckDB over Parquet in
the store layout, accepted traffic only), each notice goes through the send records, consent,
the cap and a WeChat-like provider; the host reads the runs' counts."""
from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from livecommerce.analytics import parquet_store, queries
from tests.fakes import FakeClock
from tests.polling import poll

pytestmark = pytest.mark.integration

# The scheduled machines' Scheduler groups, as the workflows stack names them (tests/conftest.py sets the env).
GROUPS = tuple(sorted(value for key, value in os.environ.items() if key.endswith("_SCHEDULE_GROUP")))


class WeChatLike:
    """Answers like subscribeMessage.send: 45009 on the first try for `throttled` openids, 40003
    (invalid openid: permanent) for `broken` ones; records what it delivered."""

    def __init__(self, throttled=(), broken=()):
        self.throttled, self.broken = set(throttled), set(broken)
        self.inbox: list[dict] = []
        self.calls: dict[str, int] = {}

    def send(self, *, openid, template_id, page, data):
        from livecommerce.notifications import rules

        self.calls[openid] = self.calls.get(openid, 0) + 1
        if openid in self.broken:
            raise rules.wechat_error(40003, "invalid openid")
        if openid in self.throttled and self.calls[openid] == 1:
            raise rules.wechat_error(45009, "reach max api minute quota limit")
        self.inbox.append({"touser": openid, "template_id": template_id, "page": page, "data": data})
        return "msg"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _watch(room_id: str, viewer: str, start: datetime, minutes: float, *, click: bool, genuine: bool = True):
    """Beacons of one viewer: an enter, a heartbeat every 30 s (2 a minute, never too fast), a click."""
    beacons = [("enter", start)] + [("heartbeat", start + timedelta(seconds=30 * (i + 1)))
                                    for i in range(int(minutes * 2))]
    if click:
        beacons.append(("product_click", start + timedelta(seconds=45)))
    return [{"request_id": f"req-{viewer}-{i}", "seq": 0, "received_at": _iso(at), "client_at": _iso(at),
             "viewer_id": viewer, "kind": kind, "product_id": "p-1" if kind == "product_click" else None,
             "play_id": f"play-{viewer}", "device_id": f"dev-{viewer}", "source_ip": f"10.0.0.{i % 200}",
             "playback_token": genuine, "realtime": genuine, "room_id": room_id}
            for i, (kind, at) in enumerate(beacons)]


def _order(room_id: str, user: str, kind: str, total: int, at: datetime) -> dict:
    order_id = f"ord-{user}"
    detail = {"order_id": order_id, "user_id": user, "room_id": room_id, "total": total}
    return {"event_id": uuid.uuid4().hex, "type": kind, "source": "livecommerce", "occurred_at": _iso(at),
            "room_id": room_id, "user_id": user, "amount_fen": total, "order_id": order_id,
            "detail": json.dumps(detail)}


@pytest.fixture
def notice_world(api, tokens_for, ivs_env, seeded, tmp_path, monkeypatch):
    from local import stepfunctions
    from livecommerce.notifications import service

    stepfunctions.enable_execution()
    stepfunctions.route_lambda_tasks()
    arns = stepfunctions.create_state_machines(seeded, prefix="livecommerce-local")
    for stem in ("non_buyer_notice", "order_summary_notice", "room_preview_notice"):
        monkeypatch.setenv(f"{stem.upper()}_STATE_MACHINE_ARN", arns[stem])
    monkeypatch.setenv("SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/livecommerce-local-workflows-scheduler")
    queries.use_engine(queries.DuckDbEngine(tmp_path))
    service.reset_senders()
    yield arns, tmp_path
    service.reset_senders()
    queries.use_engine(None)


def _history(session, execution_arn):
    sfn = session.client("stepfunctions")
    assert poll(lambda: sfn.describe_execution(executionArn=execution_arn)["status"] != "RUNNING", timeout=90)
    return sfn.describe_execution(executionArn=execution_arn)


def _room_detail(room: dict, **extra) -> dict:
    return {"room_id": room["id"], "host_id": "host-1", "status": room["status"],
            "scheduled_start": room["scheduled_start"], "visibility": "public", "previous_status": "live",
            "cause": "host", **extra}


def test_post_live_audiences_consent_retries_and_reports(notice_world, api, tokens_for, seeded):
    from local.stepfunctions import SchedulerLoop
    from livecommerce.notifications import notices, repository
    from livecommerce.shared import ports

    arns, store = notice_world
    host = tokens_for("host-1")
    start = _iso(datetime.now(timezone.utc) + timedelta(hours=1))
    room = api.call("POST", "/v1/rooms", token=host, json_body={
        "title": "冬季好物专场", "scheduled_start": start, "cover": "https://img.example.com/c.jpg"}).json()
    room_id = room["id"]
    template = api.call("POST", "/v1/coupon-templates", token=host, json_body={
        "name": "回放专享", "kind": "no_threshold", "amount": 1000, "total": 100, "per_user_limit": 1,
        "valid_days": 7, "room_id": room_id})
    assert template.status == 201, template.body
    chosen = api.call("PUT", f"/v1/rooms/{room_id}/notice-settings", token=host,
                      json_body={"coupon_template_id": template.json()["id"]})
    assert chosen.status == 200, chosen.body
    assert api.call("PUT", f"/v1/rooms/{room_id}/notice-settings", token=host,
                    json_body={"coupon_template_id": "nope"}).json()["code"] == "template_not_found"
    assert api.call("PUT", f"/v1/rooms/{room_id}/notice-settings", token=tokens_for("host-2"),
                    json_body={"coupon_template_id": None}).status == 403
    assert api.call("POST", f"/v1/rooms/{room_id}/start", token=host).status == 200
    assert api.call("POST", f"/v1/rooms/{room_id}/end", token=host).status == 200

    # The session in the analytics store: who watched how long, who clicked, who paid.
    t0 = datetime.now(timezone.utc) - timedelta(minutes=20)
    beacons = (_watch(room_id, "w4", t0, 4, click=True)                 # 4 minutes: not enough
               + _watch(room_id, "w6buyer", t0, 6, click=True)          # bought: order summary instead
               + _watch(room_id, "w6", t0, 6, click=True)               # the non-buyer (ordered, never paid)
               + _watch(room_id, "w6revoked", t0, 6, click=True)        # withdrew the consent
               + _watch(room_id, "w6noclick", t0, 6, click=False)       # never clicked
               + _watch(room_id, "fake", t0, 6, click=True, genuine=False))   # no playback token: fake traffic
    events = [_order(room_id, "w6buyer", "OrderPaid", 12345, t0 + timedelta(minutes=3)),
              _order(room_id, "w6", "OrderCreated", 5000, t0 + timedelta(minutes=4))] + \
             [_order(room_id, b, "OrderPaid", 1000 * (i + 1), t0 + timedelta(minutes=5)) for i, b in
              enumerate(("b2", "b3", "b4"))]
    parquet_store.write_records(store, "beacons", beacons)
    parquet_store.write_records(store, "events", events)

    # One-time consents: everyone accepted both kinds once; w6revoked withdrew non_buyer.
    for user in ("w4", "w6buyer", "w6", "w6revoked", "w6noclick", "fake", "b2", "b3", "b4"):
        given = api.call("POST", "/v1/me/notice-consents", token=tokens_for(user),
                         json_body={"accepted": ["non_buyer", "order_summary"]})
        assert given.status == 200 and given.json()["grants"]["non_buyer"] == 1, given.body
    assert api.call("DELETE", "/v1/me/notice-consents/non_buyer", token=tokens_for("w6revoked")).json()[
        "grants"]["non_buyer"] == 0
    bad = api.call("POST", "/v1/me/notice-consents", token=tokens_for("w6"), json_body={"accepted": ["spam"]})
    assert bad.status == 422 and bad.headers["Content-Type"].startswith("application/problem+json")

    wechat = WeChatLike(throttled={"openid-w6"}, broken={"openid-b3", "openid-b4"})
    clock = FakeClock(datetime.now(timezone.utc).replace(microsecond=0))
    providers = {"notifications.wechat": wechat, "notifications.recipients": lambda u: ("wechat", f"openid-{u}")}
    with ports.use(clock=clock, providers=providers):
        ended = notices.on_event({"detail-type": "RoomEnded", "detail": _room_detail(
            {**room, "status": "ended"}, occurred_at=_iso(clock.at))})
        assert ended["schedules"] == {"non_buyer": "created", "order_summary": "created"}
        scheduler = seeded.client("scheduler")
        waiting = scheduler.get_schedule(Name=f"room-{room_id}-non-buyer", GroupName=os.environ["NON_BUYER_NOTICE_SCHEDULE_GROUP"])
        assert waiting["ScheduleExpression"] == "at(" + (clock.at + timedelta(minutes=30)).strftime(
            "%Y-%m-%dT%H:%M:%S") + ")"                      # no replay yet: the wait's bound
        clock.advance(60)
        ready = notices.on_event({"detail-type": "ReplayReady", "detail": {
            "room_id": room_id, "playlist_url": "https://replay.example.com/r/master.m3u8",
            "duration_seconds": 600.0, "timeline_entries": 1, "clips": 0,
            "recording_started_at": _iso(t0)}})
        assert ready["schedules"] == {"non_buyer": "moved", "order_summary": "moved"}

        loop = SchedulerLoop(seeded, clock=clock.now, groups=GROUPS)
        assert loop.tick() == []                          # settling: the store's last minute is not in yet
        clock.advance(61)
        fired = {f["input"]["kind"]: f for f in loop.tick()}
        assert set(fired) == {"non_buyer", "order_summary"}
        outcomes = {kind: _history(seeded, f["execution_arn"]) for kind, f in fired.items()}
        for kind, execution in outcomes.items():
            assert execution["status"] == "SUCCEEDED", (kind, execution)
        assert json.loads(outcomes["non_buyer"]["output"])["report"] == {
            "outcome": "completed", "audience": 2, "sent": 1, "skipped_consent": 1, "skipped": 0, "failed": 0,
            "duplicate": 0}
        assert json.loads(outcomes["order_summary"]["output"])["report"] == {
            "outcome": "completed", "audience": 4, "sent": 2, "skipped_consent": 0, "skipped": 0, "failed": 2,
            "duplicate": 0}

        non_buyers = {r.user_id: (r.outcome, r.provider_code, r.attempts)
                      for r in repository.sends_of("non_buyer", room_id)}
        assert non_buyers == {"w6": ("sent", None, 2), "w6revoked": ("skipped_consent", None, 1)}
        buyers = {r.user_id: (r.outcome, r.provider_code) for r in repository.sends_of("order_summary", room_id)}
        assert buyers == {"w6buyer": ("sent", None), "b2": ("sent", None), "b3": ("failed", "40003"),
                          "b4": ("failed", "40003")}
        [replay] = [m for m in wechat.inbox if m["template_id"] == "local-wechat-non_buyer"]
        assert replay["touser"] == "openid-w6" and replay["page"].startswith(f"pages/replay/replay?room_id={room_id}")
        assert replay["data"]["thing3"] == "送你¥10.00优惠券" and "coupon_id=" in replay["page"]
        summary = {m["touser"]: m["data"] for m in wechat.inbox if m["template_id"] == "local-wechat-order_summary"}
        assert summary == {"openid-w6buyer": {"thing1": "冬季好物专场", "number2": "1", "amount3": "¥123.45"},
                           "openid-b2": {"thing1": "冬季好物专场", "number2": "1", "amount3": "¥10.00"}}
        coupons = api.call("GET", "/v1/me/coupons", token=tokens_for("w6")).json()
        assert len(coupons["items"]) == 1 and coupons["items"][0]["amount"] == 1000

        # Run again (a schedule delivered twice, an operator's retry): nothing is sent or issued twice.
        before = len(wechat.inbox)
        sfn = seeded.client("stepfunctions")
        again = sfn.start_execution(stateMachineArn=arns["non_buyer_notice"], name=uuid.uuid4().hex,
                                    input=json.dumps({"room_id": room_id, "kind": "non_buyer"}))
        assert json.loads(_history(seeded, again["executionArn"])["output"])["report"]["duplicate"] == 2
        assert len(wechat.inbox) == before
        assert len(api.call("GET", "/v1/me/coupons", token=tokens_for("w6")).json()["items"]) == 1

    # The host reads the runs: counts kept across the repeated run, the replay was linked.
    runs = api.call("GET", f"/v1/rooms/{room_id}/notices", token=host)
    assert runs.status == 200, runs.body
    by_kind = {r["kind"]: r for r in runs.json()["runs"]}
    assert (by_kind["non_buyer"]["sent"], by_kind["non_buyer"]["skipped_consent"], by_kind["non_buyer"]["runs"],
            by_kind["non_buyer"]["duplicate"], by_kind["non_buyer"]["replay_linked"]) == (1, 1, 2, 2, True)
    assert (by_kind["order_summary"]["sent"], by_kind["order_summary"]["failed"]) == (2, 2)
    assert api.call("GET", f"/v1/rooms/{room_id}/notices", token=tokens_for("w6")).status == 403


def test_no_replay_in_time_sends_without_the_link_and_shipping_notices_once(notice_world, api, tokens_for, seeded):
    from local.stepfunctions import SchedulerLoop
    from livecommerce.notifications import notices, repository
    from livecommerce.shared import ports

    _, store = notice_world
    host = tokens_for("host-1")
    room = api.call("POST", "/v1/rooms", token=host, json_body={
        "title": "无回放", "scheduled_start": _iso(datetime.now(timezone.utc) + timedelta(hours=1)),
        "cover": "https://img.example.com/c.jpg"}).json()
    room_id = room["id"]
    assert api.call("POST", f"/v1/rooms/{room_id}/start", token=host).status == 200
    assert api.call("POST", f"/v1/rooms/{room_id}/end", token=host).status == 200
    t0 = datetime.now(timezone.utc) - timedelta(minutes=20)
    parquet_store.write_records(store, "beacons", _watch(room_id, "nb", t0, 7, click=True))
    assert api.call("POST", "/v1/me/notice-consents", token=tokens_for("nb"),
                    json_body={"accepted": ["non_buyer", "shipped", "shipped"]}).json()["grants"]["shipped"] == 2

    wechat = WeChatLike()
    clock = FakeClock(datetime.now(timezone.utc).replace(microsecond=0))
    with ports.use(clock=clock, providers={"notifications.wechat": wechat,
                                           "notifications.recipients": lambda u: ("wechat", f"openid-{u}")}):
        notices.on_event({"detail-type": "RoomEnded", "detail": _room_detail(
            {**room, "status": "ended"}, occurred_at=_iso(clock.at))})
        loop = SchedulerLoop(seeded, clock=clock.now, groups=GROUPS)
        clock.advance(29 * 60)
        assert loop.tick() == []
        clock.advance(61)
        fired = {f["input"]["kind"]: f for f in loop.tick()}
        assert _history(seeded, fired["non_buyer"]["execution_arn"])["status"] == "SUCCEEDED"
        run = repository.get_notice_run(room_id, "non_buyer")
        assert (run.detail, run.replay_linked, run.sent) == ("replay_missing", False, 1)
        [message] = wechat.inbox
        assert message["page"] == f"pages/room/room?room_id={room_id}"      # no replay: the room page
        # a late replay does not start the runs again
        late = notices.on_event({"detail-type": "ReplayReady", "detail": {
            "room_id": room_id, "playlist_url": "https://replay.example.com/x.m3u8", "duration_seconds": 1.0,
            "timeline_entries": 0, "clips": 0, "recording_started_at": _iso(t0)}})
        assert late["schedules"] == {"non_buyer": "already_started", "order_summary": "already_started"}

        # Shipping notices: once per order and kind, however often the event comes.
        shipped = {"order_id": "ord-nb-1", "user_id": "nb", "room_id": room_id, "kind": "room", "subtotal": 100,
                   "discount": 0, "total": 100, "lines": [], "shipment_id": "s1", "carrier": "SF",
                   "carrier_name": "顺丰速运", "tracking_number": "SF1234567890", "shipped_at": _iso(clock.at),
                   "shipped_by": "host-1", "confirm_by": _iso(clock.at + timedelta(days=10))}
        assert notices.on_event({"detail-type": "OrderShipped", "detail": shipped})["outcome"] == "sent"
        assert notices.on_event({"detail-type": "OrderShipped", "detail": shipped})["outcome"] == "duplicate"
        delivered = {k: shipped[k] for k in ("order_id", "user_id", "room_id", "kind", "subtotal", "discount",
                                             "total", "lines")}
        delivered.update(delivered_at=_iso(clock.at), cause="buyer")
        # no consent for `delivered`: skipped and recorded
        assert notices.on_event({"detail-type": "OrderDelivered", "detail": delivered})["outcome"] == "skipped_consent"
        assert notices.on_event({"detail-type": "OrderShipped", "detail": {"order_id": 1}})["outcome"] == "ignored"
        ship = [m for m in wechat.inbox if m["template_id"] == "local-wechat-shipped"]
        assert [m["data"]["character_string3"] for m in ship] == ["SF1234567890"]
        assert repository.grants_left("nb", "shipped") == 1
        assert repository.get_send("delivered", "ord-nb-1", "nb").outcome == "skipped_consent"

"""Co-streaming and PK through the real handlers (gateway emulation), DynamoDB on moto, IVS and
IVS real-time on the local stand-in's control plane (the same boto3 `ivs-realtime` calls as on AWS)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.integration


def _future() -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()


@pytest.fixture
def rt_env(ivs_env, local_ivs_control, monkeypatch):
    from livecommerce.shared import aws

    monkeypatch.setenv("AWS_ENDPOINT_URL_IVS_REALTIME", local_ivs_control.control_url)
    aws.reset_clients()
    rt = local_ivs_control.realtime
    for arn in list(rt.stages):
        rt.stages.pop(arn)
    rt.compositions.clear()
    return ivs_env


def _live_room(api, token) -> str:
    created = api.call("POST", "/v1/rooms", token=token, json_body={"title": "连麦", "scheduled_start": _future()})
    assert created.status == 201, created.body
    room = created.json()["id"]
    assert api.call("POST", f"/v1/rooms/{room}/start", token=token).status == 200
    return room


def test_costream_seats_tokens_limit_layout_and_room_end(api, tokens_for, rt_env, local_ivs_control):
    from livecommerce import identity
    from livecommerce.media import service

    rt = local_ivs_control.realtime
    host, viewer, viewer2 = tokens_for("host-1"), tokens_for("viewer-1"), tokens_for("viewer-2")
    room = _live_room(api, host)
    base = f"/v1/rooms/{room}/costream"

    # a viewer applies; twice is refused; a viewer cannot accept or invite
    applied = api.call("POST", f"{base}/requests", token=viewer)
    assert applied.status == 201 and applied.json()["state"] == "pending", applied.body
    again = api.call("POST", f"{base}/requests", token=viewer)
    assert again.status == 409 and again.json()["code"] == "costream_request_exists"
    refused = api.call("POST", f"{base}/requests/viewer-1/accept", token=viewer2)
    assert refused.status == 403 and refused.headers["Content-Type"].startswith("application/problem+json")
    assert api.call("POST", f"{base}/invitations", token=viewer, json_body={"user_id": "viewer-2"}).status == 403

    # the host accepts: the stage is created once (tagged with the room), both get tokens
    accepted = api.call("POST", f"{base}/requests/viewer-1/accept", token=host)
    assert accepted.status == 200, accepted.body
    assert accepted.json()["seat"]["state"] == "on_stage" and accepted.json()["host_token"]["token"]
    assert [s.tags["room_id"] for s in rt.stages.values()] == [room]
    mine = api.call("GET", base, token=viewer).json()
    assert mine["on_stage"] == 1 and set(mine["my_token"]["capabilities"]) == {"PUBLISH", "SUBSCRIBE"}
    assert len(rt.stages) == 1   # GET reused the stored stage

    # the token publishes once (RTMP on_publish); reused or expired tokens are refused
    from local.ivs.state import IvsError
    token = mine["my_token"]["token"]
    rt.authorize_publish(token, "c1")
    with pytest.raises(IvsError, match="already used"):
        rt.authorize_publish(token, "c2")
    fresh = api.call("GET", base, token=viewer).json()["my_token"]
    rt.participants[fresh["participant_id"]].expires = 0
    with pytest.raises(IvsError, match="expired"):
        rt.authorize_publish(fresh["token"], "c3")
    # a guest with no seat gets no token
    assert api.call("GET", base, token=viewer2).json()["my_token"] is None

    # invitations up to 11 guests (12 publishers with the host); the 13th publisher is refused
    for n in range(1, 12):
        identity.register_dev_user(f"guest-{n}")
        assert api.call("POST", f"{base}/invitations", token=host, json_body={"user_id": f"guest-{n}"}).status == 201
    for n in range(1, 11):
        took = api.call("POST", f"{base}/invitations/guest-{n}/accept", token=tokens_for(f"guest-{n}"))
        assert took.status == 200 and took.json()["token"]["token"], took.body
    full = api.call("POST", f"{base}/invitations/guest-11/accept", token=tokens_for("guest-11"))
    assert full.status == 409 and full.json()["code"] == "stage_full", full.body
    assert api.call("GET", base, token=host).json()["on_stage"] == 11

    # accepting an invitation through another room is refused; a stranger cannot accept it
    other = _live_room(api, tokens_for("host-2"))
    wrong = api.call("POST", f"/v1/rooms/{other}/costream/invitations/guest-11/accept", token=tokens_for("guest-11"))
    assert wrong.status == 404 and wrong.json()["code"] == "costream_request_not_found"
    stranger = api.call("POST", f"{base}/invitations/guest-11/accept", token=viewer2)
    assert stranger.status == 403 and stranger.json()["code"] == "not_invitee"

    # mute (disconnects the publishing participant; the guest may only subscribe) and remove
    participant = rt.participants[mine["my_token"]["participant_id"]]
    assert api.call("POST", f"{base}/guests/viewer-1/mute", token=host).json()["state"] == "muted"
    assert participant.state == "disconnected"
    assert api.call("GET", base, token=viewer).json()["my_token"]["capabilities"] == ["SUBSCRIBE"]
    removed = api.call("DELETE", f"{base}/requests/guest-1", token=host)
    assert removed.status == 200 and removed.json()["reason"] == "removed"
    # now there is room for guest-11
    assert api.call("POST", f"{base}/invitations/guest-11/accept", token=tokens_for("guest-11")).status == 200

    # layout: grid, then pip (one composition at a time), then off
    grid = api.call("PUT", f"{base}/layout", token=host, json_body={"layout": "grid"})
    assert grid.status == 200 and grid.json()["layout"] == "grid", grid.body
    assert [c.layout for c in rt.compositions.values() if c.state == "ACTIVE"] == [
        {"grid": {"featuredParticipantAttribute": "featured", "participantOrderAttribute": "order",
                  "omitStoppedVideo": True, "videoFillMode": "COVER", "gridGap": 2}}]
    assert api.call("PUT", f"{base}/layout", token=host, json_body={"layout": "pip"}).status == 200
    active = [c for c in rt.compositions.values() if c.state == "ACTIVE"]
    assert len(active) == 1 and "pip" in active[0].layout
    bad = api.call("PUT", f"{base}/layout", token=host, json_body={"layout": "mosaic"})
    assert bad.status == 422
    assert api.call("PUT", f"{base}/layout", token=host, json_body={"layout": "off"}).json()["composition"] == "stopped"
    assert not [c for c in rt.compositions.values() if c.state == "ACTIVE"]

    # the room ends: seats closed, the stage deleted
    service.on_room_ended(room)
    assert rt.stages == {} or all(s.tags.get("room_id") != room for s in rt.stages.values())
    after = api.call("GET", base, token=host).json()
    assert after["seats"] == [] and after["on_stage"] == 0


def test_pk_likes_window_coalesced_score_result_and_refusals(api, tokens_for, rt_env, monkeypatch):
    from livecommerce.media import repository, service

    clocks = []   # the PK's clock is driven by hand here (its ticks at chosen moments)
    monkeypatch.setattr(service, "invoke_async", lambda name, payload: clocks.append((name, payload)) or True)

    host1, host2 = tokens_for("host-1"), tokens_for("host-2")
    room_a, room_b = _live_room(api, host1), _live_room(api, host2)
    scheduled = api.call("POST", "/v1/rooms", token=host2, json_body={"title": "later", "scheduled_start": _future()})
    not_live = api.call("POST", f"/v1/rooms/{room_a}/pk", token=host1, json_body={
        "other_room_id": scheduled.json()["id"], "rule": "likes", "duration_seconds": 60})
    assert not_live.status == 409 and not_live.json()["code"] == "room_not_live"
    assert api.call("POST", f"/v1/rooms/{room_a}/pk", token=host1, json_body={
        "other_room_id": room_b, "rule": "likes", "duration_seconds": 5}).status == 422
    assert api.call("POST", f"/v1/rooms/{room_a}/pk", token=host2, json_body={
        "other_room_id": room_b, "rule": "likes", "duration_seconds": 60}).status == 403

    started = api.call("POST", f"/v1/rooms/{room_a}/pk", token=host1, json_body={
        "other_room_id": room_b, "rule": "likes", "duration_seconds": 60})
    assert started.status == 201, started.body
    pk_id = started.json()["pk_id"]
    assert clocks == [("pk_clock", {"pk_id": pk_id})]
    busy = api.call("POST", f"/v1/rooms/{room_b}/pk", token=host2, json_body={
        "other_room_id": room_a, "rule": "sales", "duration_seconds": 60})
    assert busy.status == 409 and busy.json()["code"] == "pk_busy"

    assert api.call("POST", f"/v1/rooms/{room_a}/likes", token=tokens_for("viewer-1"), json_body={"count": 7}).status == 202
    t0 = 1_000_000_000_000
    assert service.pk_tick(pk_id, t0) == "published"
    assert api.call("POST", f"/v1/rooms/{room_b}/likes", token=tokens_for("viewer-2"), json_body={"count": 3}).status == 202
    assert service.pk_tick(pk_id, t0 + 400) == "coalesced"          # at most once a second
    assert service.pk_tick(pk_id, t0 + 1000) == "published"
    assert service.pk_tick(pk_id, t0 + 2500) == "unchanged"
    seen = api.call("GET", f"/v1/rooms/{room_b}/costream", token=host2).json()["pk"]
    assert (seen["score"], seen["other_score"]) == (3, 7)

    pk = repository.get_pk(pk_id)
    assert service.pk_tick(pk_id, int(pk.ends_epoch) * 1000) == "finished"
    ended = repository.get_pk(pk_id)
    assert ended.state == "ended" and ended.outcome == "a_won"
    assert service.pk_view(ended, room_b).outcome == "lost"
    # unlinked: both rooms are free for the next PK, which the host may end at once
    again = api.call("POST", f"/v1/rooms/{room_b}/pk", token=host2, json_body={
        "other_room_id": room_a, "rule": "sales", "duration_seconds": 60})
    assert again.status == 201, again.body
    stopped = api.call("DELETE", f"/v1/rooms/{room_a}/pk", token=host1)
    assert stopped.status == 200 and stopped.json()["outcome"] == "cancelled"
    assert api.call("DELETE", f"/v1/rooms/{room_a}/pk", token=host1).json()["code"] == "pk_not_running"

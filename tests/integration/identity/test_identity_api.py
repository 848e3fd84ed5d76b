"""Identity through the real entry points (gateway emulation -> authorizer -> handler) on moto."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


def _identity_items(session):
    table = session.resource("dynamodb").Table("livecommerce-local-identity")
    return table.scan()["Items"]


def test_dev_login_returns_token_and_user(api):
    response = api.call("POST", "/v1/auth/login", json_body={"provider": "dev", "code": "host-1"})
    assert response.status == 200, response.body
    body = response.json()
    assert body["user"]["id"] == "host-1"
    assert body["user"]["roles"] == ["host", "viewer"]
    assert body["token_type"] == "Bearer"
    assert body["new_user"] is True
    me = api.call("GET", "/v1/me", token=body["token"])
    assert me.status == 200
    assert me.json()["id"] == "host-1"
    assert me.json()["following_count"] == 0
    again = api.call("POST", "/v1/auth/login", json_body={"provider": "dev", "code": "host-1"})
    assert again.json()["new_user"] is False


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_dev_provider_refused_outside_local_stage(api, monkeypatch, aws_env, stage):
    from livecommerce.identity import service
    from livecommerce.shared import problems
    from livecommerce.shared.settings import reset_settings

    monkeypatch.setenv("STAGE", stage)   # what CDK sets on every deployed function
    reset_settings()
    for code in ("operator-1", "not a user id!"):
        response = api.call("POST", "/v1/auth/login", json_body={"provider": "dev", "code": code})
        assert response.status == 400
        assert response.json()["code"] == "provider_disabled"
    with pytest.raises(problems.BadRequest):   # nor can a seed make dev users there
        service.register_dev_user("operator-1")
    assert _identity_items(aws_env) == []


@pytest.mark.parametrize("body, field", [
    ({"provider": "github", "code": "x"}, "provider"),
    ({"provider": "wechat"}, "code"),
    ({"provider": "wechat", "code": 12345}, "code"),
    ({"provider": "wechat", "code": ""}, "code"),
    ({"provider": "wechat", "code": "x" * 300}, "code"),
    ({"provider": "dev", "code": "a", "admin": True}, "admin"),
    ([1, 2], "body"),
])
def test_login_bad_bodies_are_422_with_fields(api, aws_env, body, field):
    response = api.call("POST", "/v1/auth/login", json_body=body)
    assert response.status == 422, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert any(field in err["field"] for err in problem["errors"]), problem
    assert _identity_items(aws_env) == []


def test_dev_login_with_non_id_code_is_rejected(api, aws_env):
    response = api.call("POST", "/v1/auth/login", json_body={"provider": "dev", "code": "../etc"})
    assert response.status == 422
    assert _identity_items(aws_env) == []


def test_malformed_json_and_wrong_content_type(api, aws_env):
    bad = api.call("POST", "/v1/auth/login", raw_body="{not json")
    assert bad.status == 400 and bad.json()["code"] == "malformed_json"
    form = api.call("POST", "/v1/auth/login", raw_body="provider=dev&code=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 415 and form.json()["code"] == "unsupported_media_type"
    assert _identity_items(aws_env) == []


def test_oversized_body_is_413(api, aws_env):
    response = api.call("POST", "/v1/auth/login",
                        raw_body=json.dumps({"provider": "dev", "code": "a", "pad": "x" * 20000}))
    assert response.status == 413
    assert response.json()["code"] == "payload_too_large"
    assert _identity_items(aws_env) == []


def test_unknown_route_is_problem_404(api):
    response = api.call("GET", "/v1/nothing-here")
    assert response.status == 404
    assert response.json()["code"] == "route_not_found"


def test_operator_makes_host_and_viewers_follow(api, tokens_for, seeded):
    api.login("viewer-1")
    operator = tokens_for("operator-1")
    made = api.call("POST", "/v1/hosts", token=operator,
                    json_body={"user_id": "viewer-2", "display_name": "Zoe", "intro": "Tea"})
    assert made.status == 201, made.body
    assert made.json()["follower_count"] == 0
    twice = api.call("POST", "/v1/hosts", token=operator,
                     json_body={"user_id": "viewer-2", "display_name": "Zoe"})
    assert twice.status == 409 and twice.json()["code"] == "host_exists"

    # The new host's next login carries the host role.
    relogin = api.call("POST", "/v1/auth/login", json_body={"provider": "dev", "code": "viewer-2"})
    assert "host" in relogin.json()["user"]["roles"]

    viewer = tokens_for("viewer-1")
    first = api.call("PUT", "/v1/hosts/viewer-2/follow", token=viewer)
    assert first.status == 200 and first.json() == {
        "host_id": "viewer-2", "following": True, "changed": True, "follower_count": 1}
    repeat = api.call("PUT", "/v1/hosts/viewer-2/follow", token=viewer)
    assert repeat.json()["changed"] is False and repeat.json()["follower_count"] == 1
    assert api.call("GET", "/v1/hosts/viewer-2").json()["follower_count"] == 1
    assert api.call("GET", "/v1/me", token=viewer).json()["following_count"] == 1

    gone = api.call("DELETE", "/v1/hosts/viewer-2/follow", token=viewer)
    assert gone.json() == {"host_id": "viewer-2", "following": False, "changed": True, "follower_count": 0}
    again = api.call("DELETE", "/v1/hosts/viewer-2/follow", token=viewer)
    assert again.json()["changed"] is False and again.json()["follower_count"] == 0


def test_make_host_needs_existing_user(api, tokens_for):
    response = api.call("POST", "/v1/hosts", token=tokens_for("operator-1"),
                        json_body={"user_id": "nobody", "display_name": "N"})
    assert response.status == 404 and response.json()["code"] == "user_not_found"


def test_make_host_validates_body(api, tokens_for):
    response = api.call("POST", "/v1/hosts", token=tokens_for("operator-1"),
                        json_body={"user_id": "viewer-1", "display_name": "", "avatar": "http://x"})
    assert response.status == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.display_name", "body.avatar"} <= fields


def test_follow_rules(api, tokens_for):
    host = tokens_for("host-1")
    selfie = api.call("PUT", "/v1/hosts/host-1/follow", token=host)
    assert selfie.status == 400 and selfie.json()["code"] == "self_follow"
    missing = api.call("PUT", "/v1/hosts/ghost/follow", token=tokens_for("viewer-1"))
    assert missing.status == 404 and missing.json()["code"] == "host_not_found"
    bad_id = api.call("PUT", "/v1/hosts/bad%20id/follow", token=tokens_for("viewer-1"))
    assert bad_id.status == 422
    assert api.call("GET", "/v1/hosts/ghost").status == 404


def test_domain_events_reach_the_event_log(api, tokens_for, seeded):
    from livecommerce.analytics.event_log import events_for
    from local.event_delivery import drain
    from local.resources import LocalNames

    api.call("PUT", "/v1/hosts/host-1/follow", token=tokens_for("viewer-1"))
    assert drain(seeded, LocalNames()) >= 1
    follows = [e for e in events_for("HOST#host-1") if e["detail_type"] == "HostFollowed"]
    assert len(follows) == 1 and follows[0]["detail"]["viewer_id"] == "viewer-1"
    # EventBridge delivers at least once: a redelivered event is stored once.
    from livecommerce.analytics.event_log import record

    assert record({"id": follows[0]["id"], "detail-type": "HostFollowed", "source": "livecommerce",
                   "time": follows[0]["time"], "detail": follows[0]["detail"]}) is False

"""Identity through the real entry points (gateway emulation -> authorizer -> handler) on moto."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_dev_login_returns_token_and_user(api):
    response = api.call("POST", "/v1/auth/login", json_body={"provider": "dev", "code": "host-1"})
    assert response.status == 200, response.body
    body = response.json()
    assert body["user"]["id"] == "host-1"
    assert body["user"]["roles"] == ["host", "viewer"]
    assert body["token_type"] == "Bearer"
    me = api.call("GET", "/v1/me", token=body["token"])
    assert me.status == 200
    assert me.json()["id"] == "host-1"
    assert me.json()["following_count"] == 0

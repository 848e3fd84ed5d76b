"""Tokens end when they say (issue 10, outcome 4), through the API Gateway emulation:
the gateway keeps the authorizer's answer for AUTHORIZER_CACHE_SECONDS, so the handler
checks `token_expires_at` itself against the platform clock; and the authorizer refuses
a well-signed token whose user does not exist."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from livecommerce.shared import ports
from livecommerce.shared.spec import AUTHORIZER_CACHE_SECONDS
from tests.fakes import FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
def authorizer_calls(monkeypatch) -> list[str]:
    from local import gateway

    calls: list[str] = []
    real = gateway.invoke

    def counting(function: str, event: dict, **kw):
        if function == "authorizer":
            calls.append(event["headers"].get("Authorization", ""))
        return real(function, event, **kw)

    monkeypatch.setattr(gateway, "invoke", counting)
    return calls


def _short_token(user_id: str, roles: list[str], *, seconds_left: int) -> tuple[str, int]:
    """A real token (our key, our claims) that expires `seconds_left` from now."""
    from livecommerce.shared import settings, tokens

    ttl = settings.get_settings().token_ttl_seconds
    return tokens.issue(user_id, roles, now=time.time() - ttl + seconds_left)


def _at(epoch: float) -> FakeClock:
    return FakeClock(datetime.fromtimestamp(epoch, tz=timezone.utc))


def test_an_expired_token_still_kept_by_the_authorizer_cache_is_refused(api, seeded, authorizer_calls):
    api.login("viewer-1")                                   # the user exists
    token, expires_at = _short_token("viewer-1", ["viewer"], seconds_left=60)
    assert api.call("GET", "/v1/me/orders", token=token).status == 200
    assert len(authorizer_calls) == 1                       # the gateway now keeps that answer
    assert expires_at - time.time() < AUTHORIZER_CACHE_SECONDS
    for path in ("/v1/me/orders", "/v1/me", "/v1/me/reservations", "/v1/me/coupons"):
        with ports.use(clock=_at(expires_at + 1)):          # one second past the token's end
            response = api.call("GET", path, token=token)
        assert response.status == 401, (path, response.status, response.body)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "token_expired"
    assert len(authorizer_calls) == 1                       # refused by the handlers, from the cached answer
    # Up to its last second it works.
    with ports.use(clock=_at(expires_at - 1)):
        assert api.call("GET", "/v1/me/orders", token=token).status == 200


def test_a_token_for_a_user_who_does_not_exist_is_401(api, seeded, authorizer_calls):
    from livecommerce.shared import tokens

    ghost, _ = tokens.issue("ghost-404", ["viewer", "operator"])
    assert tokens.verify(ghost).user_id == "ghost-404"      # a well-signed, unexpired token
    for path in ("/v1/me/orders", "/v1/me", "/v1/me/coupons"):
        response = api.call("GET", path, token=ghost)
        assert response.status == 401, (path, response.status, response.body)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "unauthorized"
    # A refusal is not kept: the authorizer ran for each call (as API Gateway, which caches only Allow answers
    # of a REQUEST authorizer that returned a policy).
    assert len(authorizer_calls) == 3


def test_normal_tokens_still_work(api, seeded, authorizer_calls):
    token = api.login("viewer-1")
    for path in ("/v1/me/orders", "/v1/me", "/v1/me/reservations", "/v1/me/coupons", "/v1/me/points"):
        response = api.call("GET", path, token=token)
        assert response.status == 200, (path, response.status, response.body)
    assert api.call("GET", "/v1/me", token=token).json()["id"] == "viewer-1"
    # The seeded users' tokens, minted by login, are fine too.
    host = api.login("host-1")
    assert api.call("GET", "/v1/me", token=host).status == 200
    # Well inside its lifetime by the platform clock as well.
    with ports.use(clock=FakeClock(datetime.now(timezone.utc) + timedelta(minutes=30))):
        assert api.call("GET", "/v1/me/orders", token=token).status == 200

"""Tokens and the authorizer: every kind of bad token is a 401, never a 500."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

pytestmark = pytest.mark.integration


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _assert_401(api, token: str | None, header: str | None = None):
    headers = {"Authorization": header} if header is not None else None
    response = api.call("GET", "/v1/me", token=token, headers=headers)
    assert response.status == 401, response.body
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "unauthorized"


def test_valid_token_round_trip(api, aws_env):
    from livecommerce.shared import tokens

    token, expires = tokens.issue("someone", ["viewer"])
    claims = tokens.verify(token)
    assert claims.user_id == "someone" and claims.roles == ("viewer",)
    assert expires - time.time() == pytest.approx(7200, abs=5)


def test_expired_token(api, aws_env):
    from livecommerce.shared import tokens

    api.login("viewer-1")
    token, _ = tokens.issue("viewer-1", ["viewer"], now=time.time() - 3 * 3600)
    with pytest.raises(tokens.TokenInvalid) as info:
        tokens.verify(token)
    assert info.value.reason == "expired"
    _assert_401(api, token)


def test_tampered_payload_is_rejected(api, aws_env):
    token = api.login("viewer-1")
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["viewer", "operator"]
    forged = ".".join([header, _b64(claims), signature])
    _assert_401(api, forged)


def test_token_signed_with_another_key(api, aws_env):
    from livecommerce.shared import tokens

    api.login("viewer-1")
    forged = jwt.encode({"sub": "viewer-1", "roles": ["operator"], "iat": int(time.time()),
                         "exp": int(time.time()) + 600, "iss": "livecommerce", "aud": tokens.AUDIENCE},
                        "not-our-key-" * 4, algorithm="HS256")
    _assert_401(api, forged)


def test_alg_none_and_other_algorithms_are_rejected(api, aws_env):
    api.login("viewer-1")
    unsigned = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(
        {"sub": "viewer-1", "roles": ["operator"], "exp": int(time.time()) + 600}) + "."
    _assert_401(api, unsigned)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b.c",
                                    "Bearer " + "x" * 5000, "Bearer ünïcode.ñ.ø"])
def test_malformed_authorization_headers(api, aws_env, header):
    _assert_401(api, None, header=header)


def test_missing_token(api, aws_env):
    _assert_401(api, None)


def test_previous_key_still_verifies_after_rotation(api, aws_env):
    from livecommerce.shared import tokens

    token = api.login("viewer-1")
    aws_env.client("secretsmanager").put_secret_value(
        SecretId="livecommerce-local/token-signing-key", SecretString="rotated-key-" * 4)
    tokens.clear_key_cache()
    assert tokens.verify(token).user_id == "viewer-1"
    new_token, _ = tokens.issue("viewer-1", ["viewer"])
    assert jwt.get_unverified_header(new_token)["alg"] == "HS256"
    assert tokens.verify(new_token).user_id == "viewer-1"


def test_authorizer_policy_covers_the_whole_api(aws_env, api):
    from local.lambda_runtime import invoke

    token = api.login("viewer-1")
    result = invoke("authorizer", {
        "type": "REQUEST", "headers": {"authorization": f"Bearer {token}"},
        "methodArn": "arn:aws:execute-api:ap-northeast-1:123456789012:abc123/prod/GET/v1/me"})
    assert result["principalId"] == "viewer-1"
    statement = result["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:ap-northeast-1:123456789012:abc123/prod/*/*"
    assert result["context"]["roles"] == "viewer"


def test_the_gateway_keeps_the_authorizer_answer_per_token_as_api_gateway_does(api, seeded, monkeypatch):
    """API Gateway caches a REQUEST authorizer's answer per Authorization header
    (routes.AUTHORIZER_CACHE_SECONDS, set on the API stack's authorizer): the local
    gateway does too, and evaluates the cached policy for each route."""
    from local import gateway

    calls: list[str] = []
    real = gateway.invoke

    def counting(function: str, event: dict, **kw):
        if function == "authorizer":
            calls.append(event["headers"].get("Authorization", ""))
        return real(function, event, **kw)

    monkeypatch.setattr(gateway, "invoke", counting)
    token = api.login("viewer-1")
    for path in ("/v1/me", "/v1/me", "/v1/me/reservations"):
        assert api.call("GET", path, token=token).status == 200
    assert calls == [f"Bearer {token}"]                       # one answer serves every route
    assert api.call("GET", "/v1/me", token="not-a-token").status == 401
    assert api.call("GET", "/v1/me", token="not-a-token").status == 401
    assert len(calls) == 3                                    # a refusal (exception) is not kept

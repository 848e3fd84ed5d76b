"""WeChat and Alipay logins through the login endpoint, with the real adapter
making real HTTP calls to the local stand-ins (credentials from Secrets Manager on moto)."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def providers(aws_env, monkeypatch):
    from livecommerce.identity import service
    from livecommerce.shared.settings import reset_settings
    from local.standins.alipay_api import AlipayStandIn, generate_key_pair
    from local.standins.wechat_api import WeChatStandIn

    app_private, app_public = generate_key_pair()
    wechat = WeChatStandIn("wx-test", "wechat-secret")
    alipay = AlipayStandIn("2021000000000001", app_public)
    wechat.start()
    alipay.start()
    aws_env.client("secretsmanager").put_secret_value(
        SecretId="livecommerce-local/login-providers", SecretString=json.dumps({
            "wechat_app_id": "wx-test", "wechat_app_secret": "wechat-secret",
            "alipay_app_id": "2021000000000001", "alipay_app_private_key": app_private,
            "alipay_public_key": alipay.platform_public_key_pem}))
    monkeypatch.setenv("WECHAT_API_BASE", wechat.base_url)
    monkeypatch.setenv("ALIPAY_GATEWAY", alipay.gateway_url)
    reset_settings()
    service.clear_caches()
    yield wechat, alipay
    wechat.stop()
    alipay.stop()


def _login(api, provider, code):
    return api.call("POST", "/v1/auth/login", json_body={"provider": provider, "code": code})


def _users(aws_env):
    items = aws_env.resource("dynamodb").Table("livecommerce-local-identity").scan()["Items"]
    return [i for i in items if i["sk"] == "PROFILE" and i["pk"].startswith("USER#")]


def test_wechat_first_login_creates_one_viewer_and_next_login_finds_it(api, aws_env, providers):
    wechat, _ = providers
    first = _login(api, "wechat", wechat.mint_code("o-alice", unionid="u-alice"))
    assert first.status == 200, first.body
    assert first.json()["new_user"] is True and first.json()["user"]["roles"] == ["viewer"]
    second = _login(api, "wechat", wechat.mint_code("o-alice"))
    assert second.json()["new_user"] is False
    assert second.json()["user"]["id"] == first.json()["user"]["id"]
    assert len(_users(aws_env)) == 1
    me = api.call("GET", "/v1/me", token=second.json()["token"])
    assert me.json()["provider"] == "wechat"


def test_alipay_login(api, aws_env, providers):
    _, alipay = providers
    response = _login(api, "alipay", alipay.mint_code("2088000000000001"))
    assert response.status == 200, response.body
    assert response.json()["user"]["provider"] == "alipay"


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_bad_and_reused_codes_are_401_and_write_nothing(api, aws_env, providers, provider):
    wechat, alipay = providers
    bad = _login(api, provider, "not-a-real-code")
    assert bad.status == 401 and bad.json()["code"] == "login_code_rejected"
    assert bad.json()["provider_code"]
    code = wechat.mint_code("o-bob") if provider == "wechat" else alipay.mint_code("2088000000000002")
    assert _login(api, provider, code).status == 200
    reused = _login(api, provider, code)
    assert reused.status == 401 and reused.json()["code"] == "login_code_rejected"
    assert len(_users(aws_env)) == 1


def test_provider_busy_is_a_retryable_503(api, aws_env, providers):
    wechat, _ = providers
    wechat.inject_fault(busy=1)
    code = wechat.mint_code("o-carol")
    busy = _login(api, "wechat", code)
    assert busy.status == 503 and busy.json()["code"] == "provider_unavailable"
    assert busy.headers.get("Retry-After")
    assert _users(aws_env) == []
    # The code was not spent by the failed attempt: the client's retry succeeds.
    assert _login(api, "wechat", code).status == 200


def test_tampered_alipay_response_is_rejected(api, aws_env, providers):
    _, alipay = providers
    alipay.inject_fault(tamper=1)
    response = _login(api, "alipay", alipay.mint_code("2088000000000003"))
    # A reply that fails Alipay's signature check means our trusted key is wrong (or someone
    # is in the middle): never a login, and an alarm for us rather than blame on the user.
    assert response.status == 502 and response.json()["code"] == "provider_misconfigured"
    assert _users(aws_env) == []


def test_provider_down_is_a_retryable_503(api, aws_env, providers, monkeypatch):
    from livecommerce.shared.settings import reset_settings

    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:9")  # discard port: nothing listens
    reset_settings()
    response = _login(api, "wechat", "whatever")
    assert response.status == 503 and response.json()["code"] == "provider_unavailable"


def test_wrong_app_secret_is_our_misconfiguration_not_a_401(api, aws_env, providers):
    from livecommerce.identity import service

    wechat, _ = providers
    secret = json.loads(aws_env.client("secretsmanager").get_secret_value(
        SecretId="livecommerce-local/login-providers")["SecretString"])
    secret["wechat_app_secret"] = "rotated-by-mistake"
    aws_env.client("secretsmanager").put_secret_value(
        SecretId="livecommerce-local/login-providers", SecretString=json.dumps(secret))
    service.clear_caches()
    response = _login(api, "wechat", wechat.mint_code("o-dave"))
    assert response.status == 502 and response.json()["code"] == "provider_misconfigured"
    assert "secret" not in response.body.lower()
    assert _users(aws_env) == []


def test_login_keeps_the_provider_subject_for_messages(api, aws_env, providers):
    """The openid / Alipay user id the provider answered is stored on the user at login, so
    notifications can address subscribe and template messages; a user created before it was kept
    gets it at the next login, and a stored subject is never overwritten."""
    from livecommerce import identity
    from livecommerce.identity import repository

    wechat, alipay = providers
    carol = _login(api, "wechat", wechat.mint_code("o-carol")).json()["user"]["id"]
    dave = _login(api, "alipay", alipay.mint_code("2088000000000009")).json()["user"]["id"]
    assert identity.payer_subject(carol, "wechat") == "o-carol"
    assert identity.payer_subject(carol, "alipay") is None          # another provider's id is not hers
    assert identity.payer_subject(dave, "alipay") == "2088000000000009"
    assert identity.payer_subject("nobody", "wechat") is None
    # A user created before the subject was kept: the next login stores it.
    table = aws_env.resource("dynamodb").Table("livecommerce-local-identity")
    table.update_item(Key={"pk": f"USER#{carol}", "sk": "PROFILE"}, UpdateExpression="REMOVE provider_subject")
    assert identity.payer_subject(carol, "wechat") is None
    assert _login(api, "wechat", wechat.mint_code("o-carol")).json()["user"]["id"] == carol
    assert identity.payer_subject(carol, "wechat") == "o-carol"
    assert repository.keep_provider_subject(carol, "o-someone-else") is False
    assert repository.keep_provider_subject("nobody", "o-x") is False
    assert identity.payer_subject(carol, "wechat") == "o-carol"

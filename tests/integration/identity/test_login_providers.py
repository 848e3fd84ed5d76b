"""Login-code exchange against the WeChat and Alipay stand-ins, over real HTTP.

The adapter (`livecommerce.identity.providers`) is exercised exactly as in
production: real `requests` calls, real RSA2 request signing and response
verification through python-alipay-sdk. Only the far end is local.
"""
from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from livecommerce.identity import providers
from livecommerce.identity.providers import (
    LoginRejected,
    ProviderCredentials,
    ProviderIdentity,
    exchange_code,
)
from local.standins.alipay_api import AlipayStandIn, generate_key_pair
from local.standins.wechat_api import WeChatStandIn

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events" / "providers"
WECHAT_APP_ID = "wx5f0c1a2b3c4d5e6f"
WECHAT_APP_SECRET = "0123456789abcdef-TOP-SECRET-fedcba98"
ALIPAY_APP_ID = "2021004100000001"


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def app_keys() -> tuple[str, str]:
    """The app's RSA key pair (private PEM, public PEM)."""
    return generate_key_pair()


@pytest.fixture(scope="module")
def platform_private_key() -> str:
    return generate_key_pair()[0]


@pytest.fixture
def wechat():
    with WeChatStandIn(WECHAT_APP_ID, WECHAT_APP_SECRET) as standin:
        yield standin


@pytest.fixture
def alipay(app_keys, platform_private_key):
    with AlipayStandIn(ALIPAY_APP_ID, app_keys[1], platform_private_key_pem=platform_private_key) as standin:
        yield standin


@pytest.fixture
def creds(app_keys, alipay) -> ProviderCredentials:
    return ProviderCredentials(
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_APP_SECRET,
        alipay_app_id=ALIPAY_APP_ID,
        alipay_app_private_key=app_keys[0],
        alipay_public_key=alipay.platform_public_key_pem,
    )


@pytest.fixture
def exchange(wechat, alipay, creds):
    def call(provider: str, code: str, **overrides):
        kwargs = dict(credentials=creds, wechat_api_base=wechat.base_url,
                      alipay_gateway=alipay.gateway_url, timeout=5.0)
        kwargs.update(overrides)
        return exchange_code(provider, code, **kwargs)
    return call


def rejection(fn, *args, **kwargs) -> LoginRejected:
    with pytest.raises(LoginRejected) as info:
        fn(*args, **kwargs)
    return info.value


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------- WeChat

def test_wechat_code_exchanges_for_openid_and_unionid(wechat, exchange):
    code = wechat.mint_code("oUser-1", unionid="uUnion-1")
    assert exchange("wechat", code) == ProviderIdentity("wechat", "oUser-1", "uUnion-1")
    request = wechat.last_request
    assert request.method == "GET" and request.path == "/sns/jscode2session"
    assert request.query["grant_type"] == "authorization_code"
    assert request.query["appid"] == WECHAT_APP_ID


def test_wechat_without_unionid_gives_none(wechat, exchange):
    assert exchange("wechat", wechat.mint_code("oUser-2")).union_id is None


def test_wechat_codes_minted_over_http(wechat, exchange):
    assert requests.get(wechat.base_url + "/__standin/health", timeout=5).json()["ok"] is True
    reply = requests.post(wechat.base_url + "/__standin/codes", json={"openid": "oHttp", "unionid": "uHttp"},
                          timeout=5)
    assert reply.status_code == 200
    assert exchange("wechat", reply.json()["code"]) == ProviderIdentity("wechat", "oHttp", "uHttp")
    bad = requests.post(wechat.base_url + "/__standin/codes", json={}, timeout=5)
    assert bad.status_code == 400


def test_wechat_unknown_code_is_rejected_for_good(exchange):
    err = rejection(exchange, "wechat", "081xYz0w3Nq0Z03kJq1w3gJ0rs0xYz0A")
    assert (err.provider, err.provider_code, err.retryable, err.misconfigured) == ("wechat", "40029", False, False)
    assert err.message.startswith("invalid code")


def test_wechat_code_is_single_use(wechat, exchange):
    code = wechat.mint_code("oUser-3")
    exchange("wechat", code)
    err = rejection(exchange, "wechat", code)
    assert (err.provider_code, err.retryable) == ("40163", False)


def test_wechat_code_expires_after_five_minutes(wechat, exchange, monkeypatch):
    now = [1_700_000_000.0]
    monkeypatch.setattr(wechat, "clock", lambda: now[0])
    fresh, stale = wechat.mint_code("oFresh"), wechat.mint_code("oStale")
    now[0] += 299
    assert exchange("wechat", fresh).subject == "oFresh"
    now[0] += 2  # 301 s after minting
    err = rejection(exchange, "wechat", stale)
    assert (err.provider_code, err.retryable) == ("40029", False)


@pytest.mark.parametrize("field, value, errcode", [
    ("wechat_app_secret", "not-the-secret", "40125"),
    ("wechat_app_id", "wx0000000000000000", "40013"),
])
def test_wechat_wrong_app_credentials(wechat, exchange, creds, field, value, errcode):
    wrong = replace(creds, **{field: value})
    err = rejection(exchange, "wechat", wechat.mint_code("oUser-4"), credentials=wrong)
    assert (err.provider_code, err.retryable, err.misconfigured) == (errcode, False, True)


@pytest.mark.parametrize("fault, errcode, retryable", [
    ("busy", "-1", True),
    ("rate_limit", "45011", True),
    ("high_risk", "40226", False),
])
def test_wechat_faults_and_retry_with_same_code(wechat, exchange, fault, errcode, retryable):
    code = wechat.mint_code("oUser-5")
    # armed over HTTP, as a test of the running local stack would do
    armed = requests.post(wechat.base_url + "/__standin/faults", json={fault: 1}, timeout=5)
    assert armed.json()["faults"][fault] == 1
    err = rejection(exchange, "wechat", code)
    assert (err.provider_code, err.retryable) == (errcode, retryable)
    # the fault answered before the code was looked at, so it is still good
    assert exchange("wechat", code).subject == "oUser-5"


def test_wechat_timeout_is_retryable_but_the_code_may_be_spent(wechat, exchange):
    code = wechat.mint_code("oSlow")
    wechat.slow_seconds = 5.0
    wechat.inject_fault(slow=1)
    started = time.monotonic()
    err = rejection(exchange, "wechat", code, timeout=1.0)
    assert time.monotonic() - started < 3.0        # gave up long before the provider answered
    assert (err.provider_code, err.retryable) == ("network-error", True)
    assert err.message == "timed out"
    deadline = time.monotonic() + 15
    while not wechat.codes.is_spent(code) and time.monotonic() < deadline:
        time.sleep(0.05)  # the provider finishes the call we gave up on ...
    err = rejection(exchange, "wechat", code)
    assert err.provider_code == "40163"  # ... so a retry needs a fresh code from wx.login()


def test_wechat_concurrent_redemptions_of_one_code_succeed_once(wechat, exchange):
    code = wechat.mint_code("oRace")
    results: list[object] = []
    barrier = threading.Barrier(8)

    def redeem():
        barrier.wait()
        try:
            results.append(exchange("wechat", code))
        except LoginRejected as exc:
            results.append(exc.provider_code)

    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, results)).count("40163") == 7
    assert [r for r in results if isinstance(r, ProviderIdentity)] == [ProviderIdentity("wechat", "oRace", None)]


def test_wechat_unreachable_is_retryable_and_leaks_no_secret(exchange):
    err = rejection(exchange, "wechat", "081xYz0w3Nq0Z03kJq1w3gJ0rs0xYz0A",
                    wechat_api_base=f"http://127.0.0.1:{free_port()}")
    assert (err.provider_code, err.retryable) == ("network-error", True)
    # requests would have put the URL, app secret included, into its message
    assert WECHAT_APP_SECRET not in str(err)
    assert err.__cause__ is None and err.__suppress_context__


def test_stopped_standin_is_unreachable(creds):
    standin = WeChatStandIn(WECHAT_APP_ID, WECHAT_APP_SECRET)
    base = standin.start()
    code = standin.mint_code("oGone")
    standin.stop()
    err = rejection(exchange_code, "wechat", code, credentials=creds, wechat_api_base=base,
                    alipay_gateway="http://127.0.0.1:9/gateway.do", timeout=2)
    assert err.retryable


# ------------------------------------------------------------------- Alipay

def test_alipay_code_exchanges_for_user_id(alipay, exchange):
    code = alipay.mint_code("2088102150477652")
    assert exchange("alipay", code) == ProviderIdentity("alipay", "2088102150477652", None)
    # POSTed form, RSA2, Beijing time, code kept out of the URL
    request = alipay.last_request
    assert request.method == "POST" and "code" not in request.query
    form = request.form()
    assert form["method"] == "alipay.system.oauth.token" and form["sign_type"] == "RSA2"
    assert form["grant_type"] == "authorization_code" and form["code"] == code
    sent = datetime.strptime(form["timestamp"], "%Y-%m-%d %H:%M:%S")
    beijing_now = datetime.now(timezone(timedelta(hours=8))).replace(tzinfo=None)
    assert abs(sent - beijing_now) < timedelta(minutes=2)


def test_alipay_open_id_mode_and_union_id(alipay, exchange):
    code = alipay.mint_code(open_id="074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5", union_id="0DEDGXj3bvNc")
    identity = exchange("alipay", code)
    assert identity == ProviderIdentity("alipay", "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5",
                                        "0DEDGXj3bvNc")


def test_alipay_codes_minted_over_http(alipay, exchange):
    reply = requests.post(alipay.base_url + "/__standin/codes", json={"user_id": "2088000000000001"}, timeout=5)
    assert exchange("alipay", reply.json()["code"]).subject == "2088000000000001"


@pytest.mark.parametrize("scenario", ["unknown", "reused", "expired"])
def test_alipay_bad_codes_are_code_invalid(alipay, exchange, monkeypatch, scenario):
    now = [1_700_000_000.0]
    monkeypatch.setattr(alipay, "clock", lambda: now[0])
    code = alipay.mint_code("2088102150477652")
    if scenario == "unknown":
        code = "4b203fe6c11548bcabd8da5bb087a83b"
    elif scenario == "reused":
        exchange("alipay", code)
    else:
        now[0] += 301
    err = rejection(exchange, "alipay", code)
    # Alipay has one sub code for wrong, used and expired codes
    assert (err.provider, err.provider_code, err.retryable) == ("alipay", "isv.code-invalid", False)
    assert err.message == "授权码code无效"


def test_alipay_wrong_app_private_key_fails_request_signature(alipay, exchange, creds):
    other_private, _ = generate_key_pair()
    wrong = replace(creds, alipay_app_private_key=other_private)
    code = alipay.mint_code("2088102150477652")
    err = rejection(exchange, "alipay", code, credentials=wrong)
    assert (err.provider_code, err.retryable, err.misconfigured) == ("isv.invalid-signature", False, True)
    # the gateway echoes its sign string (auth code included) in sub_msg; we drop it
    assert code not in err.message and code not in str(err)
    # the gateway refused before the oauth service saw the code: it is still good
    assert exchange("alipay", code).subject == "2088102150477652"


def test_alipay_wrong_app_id(alipay, exchange, creds):
    wrong = replace(creds, alipay_app_id="2021009999999999")
    err = rejection(exchange, "alipay", alipay.mint_code("2088102150477652"), credentials=wrong)
    assert (err.provider_code, err.retryable, err.misconfigured) == ("isv.invalid-app-id", False, True)


def test_alipay_busy_is_retryable(alipay, exchange):
    code = alipay.mint_code("2088102150477652")
    requests.post(alipay.base_url + "/__standin/faults", json={"busy": 1}, timeout=5)
    err = rejection(exchange, "alipay", code)
    assert (err.provider_code, err.retryable) == ("isp.unknow-error", True)
    assert exchange("alipay", code).subject == "2088102150477652"


def test_alipay_answer_signed_by_another_key_is_rejected(app_keys, creds, wechat):
    # A gateway with its own platform key, while the adapter trusts the fixture's key.
    with AlipayStandIn(ALIPAY_APP_ID, app_keys[1]) as impostor:
        assert impostor.platform_public_key_pem != creds.alipay_public_key
        err = rejection(exchange_code, "alipay", impostor.mint_code("2088102150477652"), credentials=creds,
                        wechat_api_base=wechat.base_url, alipay_gateway=impostor.gateway_url)
    assert (err.provider_code, err.retryable, err.misconfigured) == ("bad-signature", False, True)


def test_alipay_tampered_answer_is_rejected(alipay, exchange):
    alipay.inject_fault(tamper=1)
    err = rejection(exchange, "alipay", alipay.mint_code("2088102150477652"))
    assert (err.provider_code, err.retryable) == ("bad-signature", False)


def test_alipay_unreachable_is_retryable(exchange):
    err = rejection(exchange, "alipay", "4b203fe6c11548bcabd8da5bb087a83b",
                    alipay_gateway=f"http://127.0.0.1:{free_port()}/gateway.do")
    assert (err.provider_code, err.retryable) == ("network-error", True)


def test_alipay_timeout_is_retryable(alipay, exchange):
    alipay.slow_seconds = 0.5
    alipay.inject_fault(slow=1)
    err = rejection(exchange, "alipay", alipay.mint_code("2088102150477652"), timeout=0.2)
    assert (err.provider_code, err.retryable) == ("network-error", True)


def test_stock_sdk_get_request_works_against_the_standin(alipay, app_keys):
    """The stand-in speaks the gateway protocol, not just our adapter's dialect:
    python-alipay-sdk's own server_api (GET via urlopen, biz_content={}) works."""
    from alipay import AliPay, AliPayException

    client = AliPay(appid=ALIPAY_APP_ID, app_private_key_string=app_keys[0],
                    alipay_public_key_string=alipay.platform_public_key_pem)
    client._gateway = alipay.gateway_url
    answer = client.server_api("alipay.system.oauth.token", grant_type="authorization_code",
                               code=alipay.mint_code("2088102150477652"))
    assert answer["user_id"] == "2088102150477652"
    assert alipay.last_request.method == "GET"
    with pytest.raises(AliPayException):
        client.server_api("alipay.system.oauth.token", grant_type="authorization_code", code="nope")


@pytest.mark.parametrize("body, code, retryable", [
    (b"<html>502 Bad Gateway</html>", "bad-response", True),
    (b'{"alipay_system_oauth_token_response":{"user_id":"2088"}}', "bad-signature", False),
    (b'{"alipay_system_oauth_token_response":{"code":"40004","msg":"Business Failed",'
     b'"sub_code":"isv.code-invalid","sub_msg":"x"},"sign":"AAAA"}', "isv.code-invalid", False),
    (b'{"unexpected":{}}', "bad-response", False),
])
def test_alipay_malformed_answers(monkeypatch, creds, body, code, retryable):
    monkeypatch.setattr(providers, "_send", lambda *a, **k: body)
    err = rejection(exchange_code, "alipay", "4b203fe6c11548bcabd8da5bb087a83b", credentials=creds,
                    wechat_api_base="http://127.0.0.1:9", alipay_gateway="http://127.0.0.1:9/gateway.do")
    assert (err.provider_code, err.retryable) == (code, retryable)


def test_alipay_key_as_bare_base64_like_the_console_shows(alipay, exchange, creds, app_keys):
    def bare(pem: str) -> str:
        return "".join(line for line in pem.splitlines() if not line.startswith("-----"))

    console_style = replace(creds, alipay_app_private_key=bare(app_keys[0]),
                            alipay_public_key=bare(creds.alipay_public_key))
    assert exchange("alipay", alipay.mint_code("2088102150477652"), credentials=console_style).subject \
        == "2088102150477652"


# ------------------------------------------------------------------- common

def test_unknown_provider_is_a_value_error(exchange):
    with pytest.raises(ValueError):
        exchange("qq", "whatever")


@pytest.mark.parametrize("code", ["", "   ", "x" * 1000, "abc\ndef"])
def test_malformed_codes_are_not_sent(code, creds):
    unreachable = f"http://127.0.0.1:{free_port()}"
    for provider in ("wechat", "alipay"):
        err = rejection(exchange_code, provider, code, credentials=creds, wechat_api_base=unreachable,
                        alipay_gateway=unreachable + "/gateway.do")
        assert (err.provider_code, err.retryable) == ("bad-code", False)


def test_credentials_from_json(creds):
    again = ProviderCredentials.from_json(creds.to_json())
    assert again == creds
    with pytest.raises(ValueError, match="wechat_app_secret"):
        ProviderCredentials.from_json(json.dumps({k: v for k, v in asdict(creds).items()
                                                  if k != "wechat_app_secret"}))
    with pytest.raises(ValueError):
        ProviderCredentials.from_json("not json")
    text = repr(creds)
    assert WECHAT_APP_SECRET not in text and "PRIVATE KEY" not in text


def test_no_secret_reaches_the_logs(wechat, alipay, exchange, creds, caplog):
    caplog.set_level(logging.DEBUG)
    wrong_secret = replace(creds, wechat_app_secret="wrong-" + WECHAT_APP_SECRET)
    texts = []
    for call in (
        lambda: exchange("wechat", wechat.mint_code("oLog", unionid="uLog")),
        lambda: exchange("wechat", "nope-nope"),
        lambda: exchange("wechat", wechat.mint_code("oLog"), credentials=wrong_secret),
        lambda: exchange("wechat", "abc", wechat_api_base=f"http://127.0.0.1:{free_port()}"),
        lambda: exchange("alipay", alipay.mint_code("2088102150477652")),
        lambda: exchange("alipay", "nope-nope"),
    ):
        try:
            call()
        except LoginRejected as exc:
            texts.append(str(exc))
    logged = caplog.text + "\n".join(texts)
    assert "login code exchange rejected" in caplog.text  # rejections are logged ...
    for secret in (WECHAT_APP_SECRET, "session_key", "access_token", "PRIVATE KEY",
                   creds.alipay_app_private_key.splitlines()[1]):
        assert secret not in logged  # ... without what must stay secret


# ------------------------------------------------------------------ samples

WECHAT_SAMPLES = {
    "wechat_jscode2session_ok.json": None,
    "wechat_jscode2session_ok_without_unionid.json": None,
    "wechat_jscode2session_40029_invalid_code.json": ("40029", False),
    "wechat_jscode2session_40163_code_been_used.json": ("40163", False),
    "wechat_jscode2session_45011_minute_quota.json": ("45011", True),
    "wechat_jscode2session_system_busy.json": ("-1", True),
    "wechat_jscode2session_40226_high_risk_user.json": ("40226", False),
    "wechat_jscode2session_40125_invalid_appsecret.json": ("40125", False),
}
ALIPAY_SAMPLES = {
    "alipay_oauth_token_ok.json": None,
    "alipay_oauth_token_ok_open_id.json": None,
    "alipay_oauth_token_code_invalid.json": ("isv.code-invalid", False),
    "alipay_oauth_token_invalid_signature.json": ("isv.invalid-signature", False),
    "alipay_oauth_token_service_unavailable.json": ("isp.unknow-error", True),
}


def test_every_sample_is_covered():
    assert {p.name for p in EVENTS.glob("*.json")} == set(WECHAT_SAMPLES) | set(ALIPAY_SAMPLES)


@pytest.mark.parametrize("name, expected", sorted(WECHAT_SAMPLES.items()))
def test_wechat_samples_read_as_documented(name, expected):
    payload = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    if expected is None:
        identity = providers.wechat_identity(payload)
        assert identity.subject == payload["openid"] and identity.union_id == payload.get("unionid")
    else:
        err = rejection(providers.wechat_identity, payload)
        assert (err.provider_code, err.retryable) == expected


@pytest.mark.parametrize("name, expected", sorted(ALIPAY_SAMPLES.items()))
def test_alipay_samples_read_as_documented(name, expected):
    doc = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    if expected is None:
        node = doc["alipay_system_oauth_token_response"]
        identity = providers.alipay_identity(node)
        assert identity.subject == (node.get("user_id") or node["open_id"])
    else:
        err = providers.alipay_rejection(doc["error_response"])
        assert (err.provider_code, err.retryable) == expected
        assert "code=" not in err.message


# --------------------------------------------------------------- standalone

def _spawn(args: list[str]) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(proc.stderr.read())
    return proc, json.loads(line)


def _end(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_wechat_standin_runs_standalone(creds):
    proc, info = _spawn(["local.standins.wechat_api", "--port", "0",
                         "--app-id", WECHAT_APP_ID, "--app-secret", WECHAT_APP_SECRET])
    try:
        assert info["app_id"] == WECHAT_APP_ID and WECHAT_APP_SECRET not in json.dumps(info)
        code = requests.post(info["base_url"] + "/__standin/codes", json={"openid": "oCli"}, timeout=5).json()["code"]
        identity = exchange_code("wechat", code, credentials=creds, wechat_api_base=info["base_url"],
                                 alipay_gateway="http://127.0.0.1:9/gateway.do")
        assert identity.subject == "oCli"
    finally:
        _end(proc)


def test_alipay_standin_runs_standalone(tmp_path, app_keys, creds):
    (tmp_path / "app_pub.pem").write_text(app_keys[1])
    proc, info = _spawn(["local.standins.alipay_api", "--port", "0", "--app-id", ALIPAY_APP_ID,
                         "--app-public-key", str(tmp_path / "app_pub.pem"),
                         "--write-platform-public-key", str(tmp_path / "alipay_pub.pem")])
    try:
        assert (tmp_path / "alipay_pub.pem").read_text() == info["platform_public_key_pem"]
        code = requests.post(info["base_url"] + "/__standin/codes", json={"user_id": "2088000000000042"},
                             timeout=5).json()["code"]
        trusting = replace(creds, alipay_public_key=info["platform_public_key_pem"])
        identity = exchange_code("alipay", code, credentials=trusting, wechat_api_base="http://127.0.0.1:9",
                                 alipay_gateway=info["gateway_url"])
        assert identity.subject == "2088000000000042"
    finally:
        _end(proc)

"""Exchange a mini-program login code for the provider's user identity.

The mini-program calls `wx.login()` (WeChat) or `my.getAuthCode()` (Alipay),
sends us the short-lived, single-use code, and we redeem it server to server:

* WeChat: ``GET {wechat_api_base}/sns/jscode2session`` with the app id and app
  secret. The answer is JSON: ``{openid, session_key, unionid?}`` or
  ``{errcode, errmsg}``.
* Alipay: ``alipay.system.oauth.token`` on the open-API gateway. The request is
  RSA2-signed with the app private key and the answer's signature is checked
  with the Alipay public key (python-alipay-sdk does both). The answer is
  ``{"alipay_system_oauth_token_response": {user_id | open_id, ...}, "sign"}``
  or ``{"error_response": {code, msg, sub_code, sub_msg}, "sign"}``.

Every failure becomes `LoginRejected`. ``retryable`` says whether the failure is
transient (rate limit, system busy, network). Codes are single use and the
provider may already have spent one when the failure happened (a timeout after
the provider answered, for instance), so a retry should start from a fresh
code: the client calls ``wx.login()`` / ``my.getAuthCode()`` again.

Secrets never reach a log line or an exception text: not the app secret, not
the private key, not the session key, not the access token. The WeChat request
carries the app secret in its query string and `requests` puts the URL in its
exception messages, so network failures are reported by exception type only
and raised ``from None``.

`requests` and `alipay` (which pulls in pyOpenSSL and pycryptodomex) are
imported inside the functions that use them: a cold start that does not log
anybody in does not pay for them.
"""
from __future__ import annotations

import base64
import json
import logging
import re
import threading
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger

logger = Logger(child=True)

WECHAT = "wechat"
ALIPAY = "alipay"
PROVIDERS = (WECHAT, ALIPAY)

#: WeChat errcodes worth retrying (with a fresh code): -1 system busy, 45011 minute quota.
WECHAT_RETRYABLE = frozenset({"-1", "45011"})
#: WeChat errcodes that mean our own configuration is wrong (app id / secret / request shape).
WECHAT_CONFIG_ERRORS = frozenset({"40013", "40125", "41002", "41004", "40002"})

ALIPAY_OAUTH_METHOD = "alipay.system.oauth.token"
ALIPAY_OAUTH_RESPONSE = "alipay_system_oauth_token_response"
#: Alipay public code 20000 (service unavailable) and its sub codes are transient.
ALIPAY_RETRYABLE_CODES = frozenset({"20000"})
ALIPAY_RETRYABLE_SUB_CODES = frozenset({"isp.unknow-error", "aop.unknow-error", "aop.ACQ.SYSTEM_ERROR"})
#: Alipay sub codes that mean our own configuration is wrong.
ALIPAY_CONFIG_ERRORS = frozenset({
    "isv.invalid-app-id", "isv.invalid-signature", "isv.invalid-signature-type",
    "isv.missing-signature-key", "isv.invalid-method", "isv.grant-type-invalid",
})

# Codes we give when the provider itself gave none.
NETWORK_ERROR = "network-error"      # connection refused / reset / DNS / timeout
BAD_RESPONSE = "bad-response"        # not JSON, or JSON without the expected fields
BAD_SIGNATURE = "bad-signature"      # Alipay answer unsigned or signed by another key
BAD_CODE = "bad-code"                # the code is empty or not plausibly a code; not sent upstream

_MAX_CODE_LENGTH = 256
_MAX_MESSAGE_LENGTH = 200
_BEIJING = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says the user is. ``subject`` is stable per app:
    the WeChat openid, or the Alipay user_id (open_id for apps in open-id mode).
    ``union_id`` is the cross-app id when the provider gives one."""

    provider: str
    subject: str
    union_id: str | None


class LoginRejected(Exception):
    """The provider did not confirm the code.

    ``provider_code`` is the upstream error code as a string (WeChat ``errcode``;
    Alipay ``sub_code``, or ``code`` when there is no sub code), or one of
    ``network-error``, ``bad-response``, ``bad-signature``, ``bad-code``,
    ``http-<status>`` when the failure happened before the provider could say.

    ``misconfigured`` is True when the fault is ours, not the user's: wrong app
    id or secret, a request signature Alipay refuses, an answer that does not
    verify with the configured Alipay public key. Such a rejection is not
    retryable, but it is not the user's code that is wrong either.
    """

    def __init__(self, provider: str, provider_code: str, message: str, *, retryable: bool,
                 misconfigured: bool = False) -> None:
        self.provider = provider
        self.provider_code = str(provider_code)
        self.message = _clip(message)
        self.retryable = bool(retryable)
        self.misconfigured = bool(misconfigured)
        super().__init__(f"{provider} login rejected ({self.provider_code}): {self.message}")


@dataclass(frozen=True)
class ProviderCredentials:
    """App credentials for both providers (kept in one Secrets Manager secret).

    Keys are PEM text; a bare base64 body, as the Alipay console shows it, is
    accepted too. Secret fields are left out of ``repr`` so that logging the
    object by mistake does not leak them.
    """

    wechat_app_id: str
    wechat_app_secret: str = field(repr=False)
    alipay_app_id: str
    alipay_app_private_key: str = field(repr=False)
    alipay_public_key: str

    @classmethod
    def from_json(cls, text: str) -> "ProviderCredentials":
        try:
            raw = json.loads(text)
        except (TypeError, ValueError):
            raise ValueError("provider credentials are not a JSON object") from None
        if not isinstance(raw, dict):
            raise ValueError("provider credentials are not a JSON object")
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in raw]
        if missing:
            raise ValueError(f"provider credentials lack {', '.join(missing)}")
        wrong = [n for n in names if not isinstance(raw[n], str)]
        if wrong:
            raise ValueError(f"provider credentials must be strings: {', '.join(wrong)}")
        return cls(**{n: raw[n] for n in names})

    def to_json(self) -> str:
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)})


def exchange_code(
    provider: str,
    code: str,
    *,
    credentials: ProviderCredentials,
    wechat_api_base: str,
    alipay_gateway: str,
    timeout: float = 5.0,
) -> ProviderIdentity:
    """Redeem a mini-program login code with its provider.

    Raises `ValueError` for an unknown provider, `RuntimeError` when the
    provider's credentials are not configured, and `LoginRejected` for
    everything the provider (or the network) refused.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown login provider {provider!r}")
    if not isinstance(code, str) or not code.strip() or len(code) > _MAX_CODE_LENGTH \
            or not code.isprintable():
        raise LoginRejected(provider, BAD_CODE, "login code is empty or malformed", retryable=False)
    if provider == WECHAT:
        return _exchange_wechat(code, credentials, wechat_api_base, timeout)
    return _exchange_alipay(code, credentials, alipay_gateway, timeout)


# --------------------------------------------------------------------- WeChat

def _exchange_wechat(code: str, creds: ProviderCredentials, api_base: str, timeout: float) -> ProviderIdentity:
    if not creds.wechat_app_id or not creds.wechat_app_secret:
        raise RuntimeError("wechat login is not configured")
    url = api_base.rstrip("/") + "/sns/jscode2session"
    params = {
        "appid": creds.wechat_app_id,
        "secret": creds.wechat_app_secret,
        "js_code": code,
        "grant_type": "authorization_code",
    }
    body = _send(WECHAT, "GET", url, timeout=timeout, params=params)
    try:
        payload = json.loads(body)
    except ValueError:
        raise _rejected(WECHAT, BAD_RESPONSE, "answer is not JSON", retryable=True) from None
    return wechat_identity(payload)


def wechat_identity(payload: Any) -> ProviderIdentity:
    """Read a jscode2session answer (already parsed JSON). Pure; no I/O."""
    if not isinstance(payload, dict):
        raise _rejected(WECHAT, BAD_RESPONSE, "answer is not a JSON object", retryable=True)
    errcode = payload.get("errcode")
    if errcode not in (None, 0, "0"):
        code = str(errcode)
        raise _rejected(WECHAT, code, str(payload.get("errmsg") or ""), retryable=code in WECHAT_RETRYABLE,
                        config_error=code in WECHAT_CONFIG_ERRORS)
    openid = payload.get("openid")
    if not isinstance(openid, str) or not openid:
        raise _rejected(WECHAT, BAD_RESPONSE, "answer has no openid", retryable=False)
    unionid = payload.get("unionid")
    # session_key is deliberately dropped here: nothing downstream needs it yet,
    # and a value we do not keep is a value we cannot leak.
    return ProviderIdentity(provider=WECHAT, subject=openid,
                            union_id=unionid if isinstance(unionid, str) and unionid else None)


# --------------------------------------------------------------------- Alipay

def _exchange_alipay(code: str, creds: ProviderCredentials, gateway: str, timeout: float) -> ProviderIdentity:
    if not creds.alipay_app_id or not creds.alipay_app_private_key or not creds.alipay_public_key:
        raise RuntimeError("alipay login is not configured")
    client = _alipay_client(creds.alipay_app_id, creds.alipay_app_private_key, creds.alipay_public_key)

    # The SDK builds the common parameters and signs them (RSA2 over the sorted
    # k=v string). Two adjustments: the timestamp is Beijing time, as the
    # gateway documents (the SDK uses the host's local time, UTC on Lambda), and
    # oauth.token takes grant_type/code as plain parameters, not biz_content.
    data = client.build_body(ALIPAY_OAUTH_METHOD, grant_type="authorization_code", code=code,
                             timestamp=datetime.now(_BEIJING).strftime("%Y-%m-%d %H:%M:%S"))
    data.pop("biz_content", None)
    form = client.sign_data(data)

    # Transport is ours rather than the SDK's urlopen GET: the code stays out of
    # URLs (and access logs), timeouts and network errors are handled as for
    # WeChat, and error answers keep their code and sub_code.
    body = _send(ALIPAY, "POST", gateway, timeout=timeout, data=form.encode("utf-8"),
                 headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
    try:
        raw = body.decode("utf-8")
        doc = json.loads(raw)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        raise _rejected(ALIPAY, BAD_RESPONSE, "answer is not JSON", retryable=True) from None
    if not isinstance(doc, dict):
        raise _rejected(ALIPAY, BAD_RESPONSE, "answer is not a JSON object", retryable=True)

    # Error answers are read without checking their signature (as the SDK does):
    # a forged error can only refuse a login, which anyone on the path can do anyway.
    error = doc.get("error_response")
    if isinstance(error, dict):
        raise alipay_rejection(error)
    node = doc.get(ALIPAY_OAUTH_RESPONSE)
    if not isinstance(node, dict):
        raise _rejected(ALIPAY, BAD_RESPONSE, f"answer has no {ALIPAY_OAUTH_RESPONSE}", retryable=False)
    if str(node.get("code", "10000")) != "10000":
        raise alipay_rejection(node)

    # A success must be signed by Alipay: the signature covers the exact JSON
    # text of the ..._response value, found and checked by the SDK.
    from alipay import AliPayValidationError  # deferred: the Alipay SDK pulls in RSA crypto; WeChat logins never pay it

    if not isinstance(doc.get("sign"), str) or not doc["sign"]:
        raise _rejected(ALIPAY, BAD_SIGNATURE, "answer is not signed", retryable=False, config_error=True)
    try:
        verified = client._verify_and_return_sync_response(raw, ALIPAY_OAUTH_RESPONSE)
    except (AliPayValidationError, ValueError, TypeError):  # binascii.Error is a ValueError
        raise _rejected(ALIPAY, BAD_SIGNATURE, "answer signature does not verify with the Alipay public key",
                        retryable=False, config_error=True) from None
    return alipay_identity(verified)


def alipay_identity(node: Any) -> ProviderIdentity:
    """Read a verified alipay_system_oauth_token_response value. Pure; no I/O."""
    if not isinstance(node, dict):
        raise _rejected(ALIPAY, BAD_RESPONSE, "answer is not a JSON object", retryable=False)
    # Apps created since Alipay's 2023 open_id migration get open_id instead of user_id.
    subject = node.get("user_id") or node.get("open_id")
    if not isinstance(subject, str) or not subject:
        raise _rejected(ALIPAY, BAD_RESPONSE, "answer has neither user_id nor open_id", retryable=False)
    union_id = node.get("union_id")
    return ProviderIdentity(provider=ALIPAY, subject=subject,
                            union_id=union_id if isinstance(union_id, str) and union_id else None)


def alipay_rejection(node: dict[str, Any]) -> LoginRejected:
    """Turn an Alipay error node ({code, msg, sub_code, sub_msg}) into LoginRejected. Pure."""
    code = str(node.get("code") or "")
    sub_code = str(node.get("sub_code") or "")
    message = str(node.get("sub_msg") or node.get("msg") or "")
    # The gateway echoes the whole string it tried to verify (auth code included)
    # in sub_msg of isv.invalid-signature; the code is still unspent then.
    message = message.split("网关生成的验签字符串为")[0].rstrip("，,:： ")
    retryable = code in ALIPAY_RETRYABLE_CODES or sub_code in ALIPAY_RETRYABLE_SUB_CODES
    return _rejected(ALIPAY, sub_code or code or "unknown", message, retryable=retryable,
                     config_error=sub_code in ALIPAY_CONFIG_ERRORS)


@lru_cache(maxsize=4)
def _alipay_client(app_id: str, app_private_key: str, alipay_public_key: str):
    """One SDK client per container and credentials: parsing RSA keys costs a few ms."""
    from alipay import AliPay  # deferred: the Alipay SDK pulls in RSA crypto; WeChat logins never pay it

    return AliPay(appid=app_id, app_notify_url=None,
                  app_private_key_string=_key_material(app_private_key),
                  alipay_public_key_string=_key_material(alipay_public_key),
                  sign_type="RSA2")


def _key_material(key: str) -> str | bytes:
    """PEM as is; a bare base64 body (Alipay console style) as DER bytes."""
    if "-----BEGIN" in key:
        return key.replace("\\n", "\n")
    return base64.b64decode("".join(key.split()))


# ----------------------------------------------------------------------- HTTP

_session_lock = threading.Lock()
_session_obj = None
_SECRET_IN_URL = re.compile(r"(?<=[?&])(secret|js_code|code)=[^&\s\"']*")


class _RedactUrlSecrets(logging.Filter):
    """urllib3 logs every request line at DEBUG, query string included; the
    WeChat query string carries the app secret and the login code."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "=" in a for a in record.args):
            record.args = tuple(_SECRET_IN_URL.sub(r"\1=***", a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = _SECRET_IN_URL.sub(r"\1=***", record.msg)
        return True


def _session():
    global _session_obj
    if _session_obj is None:
        with _session_lock:
            if _session_obj is None:
                import requests  # deferred: ~40 ms to import

                logging.getLogger("urllib3.connectionpool").addFilter(_RedactUrlSecrets())
                _session_obj = requests.Session()
    return _session_obj


def _send(provider: str, method: str, url: str, *, timeout: float, **kwargs: Any) -> bytes:
    import requests  # deferred: ~40 ms to import; only a provider login pays it

    try:
        resp = _session().request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout:
        raise _rejected(provider, NETWORK_ERROR, "timed out", retryable=True) from None
    except requests.RequestException as exc:
        # str(exc) would carry the URL, and the WeChat URL carries the app secret.
        raise _rejected(provider, NETWORK_ERROR, f"request failed ({type(exc).__name__})",
                        retryable=True) from None
    if resp.status_code != 200:
        status = resp.status_code
        raise _rejected(provider, f"http-{status}", f"HTTP {status}",
                        retryable=status >= 500 or status == 429)
    return resp.content


def _rejected(provider: str, code: str, message: str, *, retryable: bool,
              config_error: bool = False) -> LoginRejected:
    rejection = LoginRejected(provider, code, message, retryable=retryable, misconfigured=config_error)
    log = logger.error if config_error else logger.warning
    log("login code exchange rejected", extra={
        "provider": provider, "provider_code": rejection.provider_code, "retryable": rejection.retryable,
        "misconfigured": rejection.misconfigured, "provider_message": rejection.message,
    })
    return rejection


def _clip(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE_LENGTH else text[: _MAX_MESSAGE_LENGTH - 1] + "…"

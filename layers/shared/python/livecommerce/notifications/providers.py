"""The senders: WeChat subscribe messages, Alipay mini-program template messages, SMS.

Each `send(...)` returns the provider's message id or raises `rules.ProviderError` with the
provider's own error code (retryable, revoked or final). HTTP goes through `requests` with
timeouts; a network failure is retryable (the send record keeps the attempt).

WeChat: `POST /cgi-bin/message/subscribe/send?access_token=...` with the access token from the
stable-token API (`POST /cgi-bin/stable_token`), cached per container until 5 minutes before
it expires and refreshed once (force_refresh) when a send answers 40001/42001.
Alipay: `alipay.open.app.mini.templatemessage.send` through the gateway, RSA2-signed with
python-alipay-sdk, the signed answer verified.
SMS: SNS `Publish` to a phone number (Transactional), the one SMS path moto also serves.
"""
from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from livecommerce.notifications import rules
from livecommerce.notifications.rules import ProviderError

TIMEOUT = 5.0
_BEIJING = timezone(timedelta(hours=8))


def _post(provider: str, url: str, **kwargs: Any) -> bytes:
    import requests  # deferred: ~40 ms to import; only a send pays it

    try:
        resp = requests.post(url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        # never str(exc): a WeChat URL carries the access token
        raise ProviderError(provider, "network", type(exc).__name__, retryable=True) from None
    if resp.status_code != 200:
        raise ProviderError(provider, f"http-{resp.status_code}", "HTTP error",
                            retryable=resp.status_code >= 500 or resp.status_code == 429)
    return resp.content


def _json(provider: str, body: bytes) -> dict:
    try:
        doc = json.loads(body)
    except ValueError:
        raise ProviderError(provider, "bad-response", "answer is not JSON", retryable=True) from None
    if not isinstance(doc, dict):
        raise ProviderError(provider, "bad-response", "answer is not a JSON object", retryable=True)
    return doc


# ------------------------------------------------------------------------ WeChat

@dataclass
class WeChatSubscribeSender:
    api_base: str
    app_id: str
    app_secret: str = field(repr=False)
    clock: Callable[[], float] = time.time
    _token: str | None = field(default=None, repr=False)
    _expires_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    token_fetches: int = 0

    def access_token(self, *, force_refresh: bool = False) -> str:
        with self._lock:
            if not force_refresh and self._token and rules.token_still_good(self._expires_at, self.clock()):
                return self._token
            doc = _json("wechat", _post("wechat", self.api_base.rstrip("/") + "/cgi-bin/stable_token", json={
                "grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret,
                "force_refresh": force_refresh}))
            if doc.get("errcode") not in (None, 0):
                raise rules.wechat_error(int(doc["errcode"]), str(doc.get("errmsg", "")))
            token, expires_in = doc.get("access_token"), doc.get("expires_in")
            if not isinstance(token, str) or not isinstance(expires_in, int):
                raise ProviderError("wechat", "bad-response", "stable_token answer lacks a token", retryable=True)
            self.token_fetches += 1
            self._token, self._expires_at = token, self.clock() + expires_in
            return token

    def send(self, *, openid: str, template_id: str, page: str, data: dict[str, str]) -> str:
        message = {"touser": openid, "template_id": template_id, "page": page,
                   "data": {key: {"value": value} for key, value in data.items()},
                   "miniprogram_state": os.environ.get("WECHAT_MINIPROGRAM_STATE", "formal"), "lang": "zh_CN"}
        for attempt in (1, 2):
            token = self.access_token(force_refresh=attempt == 2)
            doc = _json("wechat", _post("wechat", self.api_base.rstrip("/") + "/cgi-bin/message/subscribe/send",
                                        params={"access_token": token}, json=message))
            errcode = int(doc.get("errcode") or 0)
            if errcode == 0:
                return str(doc.get("msgid", ""))
            if errcode in rules.WECHAT_TOKEN_INVALID and attempt == 1:
                continue                                   # refresh the token once
            raise rules.wechat_error(errcode, str(doc.get("errmsg", "")))
        raise AssertionError("unreachable")


# ------------------------------------------------------------------------ Alipay

TEMPLATE_METHOD = "alipay.open.app.mini.templatemessage.send"
TEMPLATE_RESPONSE = "alipay_open_app_mini_templatemessage_send_response"


@dataclass
class AlipayTemplateSender:
    gateway: str
    client: Any                      # alipay.AliPay (python-alipay-sdk): signs requests, verifies answers

    def send(self, *, user_id: str, template_id: str, page: str, data: dict[str, str]) -> str:
        biz = {"to_user_id": user_id, "user_template_id": template_id, "page": page,
               "data": json.dumps({key: {"value": value} for key, value in data.items()}, ensure_ascii=False)}
        body = self.client.build_body(TEMPLATE_METHOD, biz_content=biz,
                                      timestamp=datetime.now(_BEIJING).strftime("%Y-%m-%d %H:%M:%S"))
        form = self.client.sign_data(body)
        raw = _post("alipay", self.gateway, data=form.encode("utf-8"),
                    headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
        doc = _json("alipay", raw)
        node = doc.get(TEMPLATE_RESPONSE) or doc.get("error_response")
        if not isinstance(node, dict):
            raise ProviderError("alipay", "bad-response", f"answer has no {TEMPLATE_RESPONSE}", retryable=True)
        if str(node.get("code")) != "10000":
            raise rules.alipay_error(str(node.get("sub_code") or node.get("code")),
                                     str(node.get("sub_msg") or node.get("msg") or ""))
        try:
            self.client._verify_and_return_sync_response(raw.decode("utf-8"), TEMPLATE_RESPONSE)
        except Exception:  # noqa: BLE001 - AliPayValidationError, binascii errors: a forged or broken answer
            raise ProviderError("alipay", "bad-signature", "answer signature does not verify") from None
        return str(node.get("msg_id") or "")


def alipay_client(app_id: str, app_private_key: str, alipay_public_key: str) -> Any:
    from alipay import AliPay  # deferred: the Alipay SDK pulls in RSA crypto; WeChat sends never pay it

    def pem(text: str, kind: str) -> str:
        text = text.strip()
        if text.startswith("-----"):
            return text
        return f"-----BEGIN {kind}-----\n{text}\n-----END {kind}-----"

    return AliPay(appid=app_id, app_notify_url=None,
                  app_private_key_string=pem(app_private_key, "PRIVATE KEY"),
                  alipay_public_key_string=pem(alipay_public_key, "PUBLIC KEY"), sign_type="RSA2")


# --------------------------------------------------------------------------- SMS

@dataclass
class SnsSmsSender:
    client: Any                      # boto3 sns client
    sender_id: str | None = None

    def send(self, *, phone: str, text: str) -> str:
        from botocore.exceptions import ClientError  # deferred: botocore with the client

        number = phone if phone.startswith("+") else "+86" + phone
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self.sender_id}
        try:
            answer = self.client.publish(PhoneNumber=number, Message=text, MessageAttributes=attributes)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise rules.sms_error(str(error.get("Code", "unknown")), str(error.get("Message", ""))) from None
        return str(answer.get("MessageId", ""))

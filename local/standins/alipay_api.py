"""Stand-in for the Alipay open-API gateway, enough for mini-program login
(``alipay.system.oauth.token``) and template messages (``alipay.open.app.mini.templatemessage.send``:
delivered ones land in ``inbox``, ``GET /__standin/inbox``; a user in ``revoked``, set with
``POST /__standin/revoked {"user_id": ...}``, is answered 40004 ``USER_NOT_SUBSCRIBE`` as Alipay
answers a user who has not subscribed; a missing ``to_user_id`` or ``user_template_id`` is 40004
``USER_TEMPLATE_ILLEGAL``; the ``busy`` fault answers 20000 ``isp.unknow-error``).

It behaves like openapi.alipay.com/gateway.do:

* accepts GET (query string) and POST (``application/x-www-form-urlencoded``,
  parameters may also sit in the query string);
* checks the common parameters, the app id, and the request's RSA2 signature
  with the app public key (sign string: every parameter except ``sign`` with a
  non-empty value, sorted by name, ``k=v`` joined with ``&``);
* signs every answer with its own platform key the way Alipay signs sync
  answers: SHA256withRSA over the exact JSON text of the ``..._response`` (or
  ``error_response``) value, base64 in a sibling ``sign`` field. Stock
  python-alipay-sdk verifies these answers with `platform_public_key_pem`.

Errors, as the real gateway reports them (all in ``error_response``):

===== ============================ ==========================================
code  sub_code                     when
===== ============================ ==========================================
40001 isv.missing-*                a common parameter is missing
40002 isv.invalid-app-id           app_id is not this app's
40002 isv.invalid-signature-type   sign_type is not RSA2
40002 isv.invalid-signature        the request signature does not verify
40002 isv.invalid-timestamp        timestamp is not ``yyyy-MM-dd HH:mm:ss``
40002 isv.invalid-method           method is not one the stand-in serves
40002 isv.grant-type-invalid       grant_type is not ``authorization_code``
40002 isv.code-invalid             code unknown, used, or older than 5 minutes
                                   (Alipay uses this one sub code for all three)
20000 isp.unknow-error             ``busy`` fault armed
===== ============================ ==========================================

Faults: ``busy`` (answer 20000 and leave the code unspent), ``tamper`` (change
the user id after signing, as a man in the middle would), ``slow`` (stall
``slow_seconds``, then answer normally).

Run alone: ``python -m local.standins.alipay_api --port 8102 --app-id 2021... --app-public-key app_pub.pem``;
it prints its platform public key; mint codes with
``POST /__standin/codes {"user_id": "2088..."}`` (or ``{"open_id": ...}``).
"""
from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from local.standins import (Reply, Request, StandIn, base_arguments, generate_key_pair, json_reply,
                            run_standalone)

GATEWAY_PATH = "/gateway.do"
OAUTH_METHOD = "alipay.system.oauth.token"
TEMPLATE_METHOD = "alipay.open.app.mini.templatemessage.send"
_BEIJING = timezone(timedelta(hours=8))
_REQUIRED = (
    ("method", "isv.missing-method", "缺少方法名参数"),
    ("app_id", "isv.missing-app-id", "缺少appId参数"),
    ("sign_type", "isv.missing-signature-type", "缺少签名类型参数"),
    ("sign", "isv.missing-signature", "缺少签名参数"),
    ("timestamp", "isv.missing-timestamp", "缺少时间戳参数"),
    ("version", "isv.missing-version", "缺少版本参数"),
)


def sign_string(params: dict[str, str]) -> str:
    """Alipay's string to sign for a request: all but ``sign``, empty values dropped, sorted."""
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")


class AlipayStandIn(StandIn):
    NAME = "alipay-gateway"
    FAULTS = ("busy", "tamper", "slow")

    def __init__(self, app_id: str, app_public_key_pem: str, port: int = 0, *, host: str = "127.0.0.1",
                 platform_private_key_pem: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(port, host=host, clock=clock)
        self.app_id = app_id
        self._app_public_key = _load_public_key(app_public_key_pem)
        if platform_private_key_pem is None:
            platform_private_key_pem, _ = generate_key_pair()
        self._platform_key = serialization.load_pem_private_key(platform_private_key_pem.encode(), password=None)
        #: template messages delivered, and the users who revoked (never subscribed to) them
        self.inbox: list[dict[str, Any]] = []
        self.revoked: set[str] = set()
        #: what the app must trust as "the Alipay public key"
        self.platform_public_key_pem = self._platform_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    @property
    def gateway_url(self) -> str:
        return self.base_url + GATEWAY_PATH

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "gateway_url": self.gateway_url, "app_id": self.app_id,
                "platform_public_key_pem": self.platform_public_key_pem}

    # -- codes ----------------------------------------------------------------------
    def mint_code(self, user_id: str | None = None, *, open_id: str | None = None,
                  union_id: str | None = None) -> str:
        """An auth code as my.getAuthCode() would hand it to the mini-program.

        Give `user_id` (2088..., classic apps) or `open_id` (apps in open-id mode)."""
        if bool(user_id) == bool(open_id):
            raise ValueError("give exactly one of user_id or open_id")
        for value in (user_id, open_id, union_id):
            if value is not None and not isinstance(value, str):
                raise ValueError("user_id, open_id and union_id are strings")
        return self.codes.mint({"user_id": user_id, "open_id": open_id, "union_id": union_id})

    def mint_from_json(self, body: dict[str, Any]) -> str:
        return self.mint_code(body.get("user_id"), open_id=body.get("open_id"), union_id=body.get("union_id"))

    def _control(self, request: Request) -> Reply:
        if request.path == "/__standin/inbox" and request.method == "GET":
            return json_reply({"inbox": list(self.inbox)})
        if request.path == "/__standin/revoked" and request.method == "POST":
            try:
                user_id = request.json_object().get("user_id")
            except ValueError as exc:
                return json_reply({"error": str(exc)}, 400)
            if not isinstance(user_id, str) or not user_id:
                return json_reply({"error": "user_id is a non-empty string"}, 400)
            self.revoked.add(user_id)
            return json_reply({"revoked": sorted(self.revoked)})
        return super()._control(request)

    # -- gateway ----------------------------------------------------------------------
    def handle(self, request: Request) -> Reply | None:
        if request.path != GATEWAY_PATH:
            return None
        if request.method not in ("GET", "POST"):
            return json_reply({"error": "method not allowed"}, 405)
        try:
            params = request.form()
        except UnicodeDecodeError:
            return self._error("40002", "Invalid Arguments", "isv.invalid-charset", "字符集错误")

        for name, sub_code, sub_msg in _REQUIRED:
            if not params.get(name):
                return self._error("40001", "Missing Required Arguments", sub_code, sub_msg)
        if params["app_id"] != self.app_id:
            return self._error("40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数")
        if params["sign_type"] != "RSA2":
            return self._error("40002", "Invalid Arguments", "isv.invalid-signature-type", "无效的签名类型")
        unsigned = sign_string(params)
        if not self._verify_request(unsigned, params["sign"]):
            return self._error("40002", "Invalid Arguments", "isv.invalid-signature",
                               "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，"
                               f"网关生成的验签字符串为：{unsigned}")
        try:
            datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return self._error("40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数")
        if params["method"] not in (OAUTH_METHOD, TEMPLATE_METHOD):
            return self._error("40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名")

        if self.take_fault("busy"):
            return self._error("20000", "Service Currently Unavailable", "isp.unknow-error",
                               "服务暂不可用（业务系统不可用）")
        if self.take_fault("slow"):
            time.sleep(self.slow_seconds)
        if params["method"] == TEMPLATE_METHOD:
            return self._template_message(params)
        return self._oauth_token(params)

    def _template_message(self, params: dict[str, str]) -> Reply:
        key = TEMPLATE_METHOD.replace(".", "_") + "_response"
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except json.JSONDecodeError:
            biz = None
        if not isinstance(biz, dict):
            return self._error("40002", "Invalid Arguments", "isv.invalid-parameter", "biz_content 不是 JSON 对象")

        def failed(sub_code: str, sub_msg: str) -> Reply:   # business errors come in the method's own node
            return self._signed(key, {"code": "40004", "msg": "Business Failed", "sub_code": sub_code,
                                      "sub_msg": sub_msg})
        user_id, template_id = biz.get("to_user_id"), biz.get("user_template_id")
        if not isinstance(user_id, str) or not user_id or not isinstance(template_id, str) or not template_id:
            return failed("USER_TEMPLATE_ILLEGAL", "模板或用户不合法")
        if user_id in self.revoked:
            return failed("USER_NOT_SUBSCRIBE", "用户未订阅该消息")
        try:
            data = json.loads(biz.get("data") or "{}")
        except (json.JSONDecodeError, TypeError):
            return failed("USER_TEMPLATE_ILLEGAL", "data 不是 JSON")
        msg_id = "msg" + secrets.token_hex(8)
        self.inbox.append({"to_user_id": user_id, "user_template_id": template_id, "page": biz.get("page"),
                           "data": data, "msg_id": msg_id})
        return self._signed(key, {"code": "10000", "msg": "Success", "msg_id": msg_id})

    def _oauth_token(self, params: dict[str, str]) -> Reply:
        if params.get("grant_type") != "authorization_code":
            return self._error("40002", "Invalid Arguments", "isv.grant-type-invalid", "grant_type参数不正确")
        status, claims = self.codes.redeem(params.get("code", ""))
        if claims is None:  # unknown, used or expired: one sub code for all
            return self._error("40002", "Invalid Arguments", "isv.code-invalid", "授权码code无效")
        node: dict[str, Any] = {}
        if claims.get("user_id"):
            node["user_id"] = claims["user_id"]
        if claims.get("open_id"):
            node["open_id"] = claims["open_id"]
        if claims.get("union_id"):
            node["union_id"] = claims["union_id"]
        node.update({
            "access_token": "authusrB" + secrets.token_hex(16),
            "expires_in": 1296000,
            "refresh_token": "authusrB" + secrets.token_hex(16),
            "re_expires_in": 2592000,
            "auth_start": datetime.fromtimestamp(self.clock(), _BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
        })
        tamper = self.take_fault("tamper")
        return self._signed(OAUTH_METHOD.replace(".", "_") + "_response", node, tamper=tamper)

    # -- signing ----------------------------------------------------------------------
    def _verify_request(self, unsigned: str, signature_b64: str) -> bool:
        try:
            signature = base64.b64decode(signature_b64, validate=False)
            self._app_public_key.verify(signature, unsigned.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    def _error(self, code: str, msg: str, sub_code: str, sub_msg: str) -> Reply:
        return self._signed("error_response", {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg})

    def _signed(self, key: str, node: dict[str, Any], *, tamper: bool = False) -> Reply:
        text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        signature = self._platform_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        if tamper:
            forged = dict(node)
            for field in ("user_id", "open_id"):
                if field in forged:
                    forged[field] = "2088000000000666"
            text = json.dumps(forged, ensure_ascii=False, separators=(",", ":"))
        body = '{"%s":%s,"sign":"%s"}' % (key, text, base64.b64encode(signature).decode())
        # The real gateway answers text/html;charset=utf-8; clients must not rely on it.
        return Reply(200, body.encode("utf-8"), {"Content-Type": "text/html;charset=utf-8"})


def _load_public_key(pem_or_base64: str):
    text = pem_or_base64.strip()
    if "-----BEGIN" in text:
        return serialization.load_pem_public_key(text.encode())
    return serialization.load_der_public_key(base64.b64decode("".join(text.split())))


def main(argv: list[str] | None = None) -> None:
    parser = base_arguments("Alipay open-API gateway stand-in (alipay.system.oauth.token)")
    parser.add_argument("--app-id", default="2021000000000000", help="app id it accepts")
    parser.add_argument("--app-public-key", required=True, metavar="FILE",
                        help="the app's RSA public key (PEM, or the bare base64 the Alipay console shows)")
    parser.add_argument("--platform-private-key", metavar="FILE",
                        help="sign answers with this key (PEM) instead of a fresh one, to keep it across restarts")
    parser.add_argument("--write-platform-public-key", metavar="FILE",
                        help="also write the platform public key (the 'Alipay public key') to FILE")
    args = parser.parse_args(argv)
    with open(args.app_public_key, encoding="utf-8") as fh:
        app_public_key = fh.read()
    platform_private_key = None
    if args.platform_private_key:
        with open(args.platform_private_key, encoding="utf-8") as fh:
            platform_private_key = fh.read()
    standin = AlipayStandIn(args.app_id, app_public_key, port=args.port, host=args.host,
                            platform_private_key_pem=platform_private_key)
    if args.write_platform_public_key:
        with open(args.write_platform_public_key, "w", encoding="utf-8") as fh:
            fh.write(standin.platform_public_key_pem)
    run_standalone(standin)


if __name__ == "__main__":
    main()

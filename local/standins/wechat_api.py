"""Stand-in for the WeChat mini-program login API (``GET /sns/jscode2session``).

Answers like api.weixin.qq.com: HTTP 200 always, JSON body, either
``{"session_key": ..., "openid": ..., "unionid"?: ...}`` or
``{"errcode": n, "errmsg": "... rid: ..."}``:

=======  ==========================================================
errcode  when
=======  ==========================================================
41002    appid missing
40013    appid is not this app's
41004    secret missing
40125    secret wrong
40002    grant_type is not ``authorization_code``
41008    js_code missing
40029    code unknown or older than 5 minutes
40163    code already used
-1       ``busy`` fault armed ("system error")
45011    ``rate_limit`` fault armed (minute quota)
40226    ``high_risk`` fault armed (user blocked by risk control)
=======  ==========================================================

Faults: ``busy``, ``rate_limit`` and ``high_risk`` answer before the code is
looked at and leave it unspent; ``slow`` stalls ``slow_seconds`` and then
answers normally (spending the code), which is what a client timeout looks like
when the provider was merely slow.

Run alone: ``python -m local.standins.wechat_api --port 8101 --app-id wx... --app-secret ...``
then mint codes with ``POST /__standin/codes {"openid": "o...", "unionid": "u..."}``.
"""
from __future__ import annotations

import base64
import secrets
import string
import time
from typing import Any, Callable

from local.standins import Reply, Request, StandIn, base_arguments, json_reply, run_standalone

PATH = "/sns/jscode2session"
_CODE_ALPHABET = string.ascii_letters + string.digits


class WeChatStandIn(StandIn):
    NAME = "wechat-api"
    FAULTS = ("busy", "rate_limit", "high_risk", "slow", "rate_limit_send")

    def __init__(self, app_id: str, app_secret: str, port: int = 0, *, host: str = "127.0.0.1",
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(port, host=host, clock=clock)
        self.app_id = app_id
        self.app_secret = app_secret
        # stable_token and subscribeMessage.send (local.standins.wechat_messages), with their inbox
        from local.standins.wechat_messages import SubscribeMessages

        self.messages = SubscribeMessages(app_id, app_secret, lambda: self.clock(), self.take_fault)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "app_id": self.app_id}

    def new_code(self) -> str:
        # wx.login() codes are 32 characters of letters and digits
        return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(32))

    def mint_code(self, openid: str, unionid: str | None = None) -> str:
        """A code as wx.login() would hand it to the mini-program of user `openid`."""
        if not isinstance(openid, str) or not openid:
            raise ValueError("openid is required")
        if unionid is not None and (not isinstance(unionid, str) or not unionid):
            raise ValueError("unionid must be a non-empty string when given")
        return self.codes.mint({"openid": openid, "unionid": unionid})

    def mint_from_json(self, body: dict[str, Any]) -> str:
        return self.mint_code(body.get("openid"), body.get("unionid"))

    def _control(self, request: Request) -> Reply:
        # The subscribe messages delivered so far (tests and curious developers read it over HTTP).
        if request.path == "/__standin/inbox" and request.method == "GET":
            return _reply({"inbox": list(self.messages.inbox)})
        return super()._control(request)

    def handle(self, request: Request) -> Reply | None:
        if request.path != PATH:
            answer = self.messages.handle(request.method, request.path, request.query, request.body)
            return _reply(answer) if answer is not None else None
        if request.method != "GET":
            return _error(43001, "require GET method")
        q = request.query
        if not q.get("appid"):
            return _error(41002, "appid missing")
        if q["appid"] != self.app_id:
            return _error(40013, "invalid appid")
        if not q.get("secret"):
            return _error(41004, "appsecret missing")
        if not secrets.compare_digest(q["secret"].encode(), self.app_secret.encode()):
            return _error(40125, "invalid appsecret")
        if q.get("grant_type") != "authorization_code":
            return _error(40002, "invalid grant_type")
        if not q.get("js_code"):
            return _error(41008, "missing code")

        if self.take_fault("busy"):
            return _error(-1, "system error")
        if self.take_fault("rate_limit"):
            return _error(45011, "api minute-quota reach limit  mustslower  retry next minute")
        if self.take_fault("high_risk"):
            return _error(40226, "high risk user")
        if self.take_fault("slow"):
            time.sleep(self.slow_seconds)

        status, claims = self.codes.redeem(q["js_code"])
        if status == self.codes.USED:
            return _error(40163, "code been used")
        if claims is None:  # unknown or expired: WeChat says the same for both
            return _error(40029, "invalid code")
        payload = {
            "session_key": base64.b64encode(secrets.token_bytes(16)).decode(),
            "openid": claims["openid"],
        }
        if claims.get("unionid"):
            payload["unionid"] = claims["unionid"]
        return _reply(payload)


def _rid() -> str:
    return f"{int(time.time()):x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def _error(errcode: int, errmsg: str) -> Reply:
    # WeChat appends a request id to every errmsg
    return _reply({"errcode": errcode, "errmsg": f"{errmsg}, rid: {_rid()}"})


def _reply(payload: dict[str, Any]) -> Reply:
    # Always HTTP 200; the content type is not application/json on every WeChat
    # endpoint, so clients must parse the body whatever the header says.
    return json_reply(payload, content_type="text/plain")


def main(argv: list[str] | None = None) -> None:
    parser = base_arguments("WeChat jscode2session stand-in")
    parser.add_argument("--app-id", default="wx0000000000local", help="mini-program AppID it accepts")
    parser.add_argument("--app-secret", default="local-app-secret", help="AppSecret it accepts")
    args = parser.parse_args(argv)
    run_standalone(WeChatStandIn(args.app_id, args.app_secret, port=args.port, host=args.host))


if __name__ == "__main__":
    main()

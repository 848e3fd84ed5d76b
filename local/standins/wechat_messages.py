"""WeChat's stable access token and subscribe messages, served by the WeChat stand-in
(local.standins.wechat_api delegates these paths here).

  POST /cgi-bin/stable_token            {"grant_type": "client_credential", appid, secret, force_refresh}
                                        -> {"access_token", "expires_in": 7200}; the same token until
                                        it expires or force_refresh (the old one stays valid 5 minutes)
  POST /cgi-bin/message/subscribe/send?access_token=...   -> {"errcode": 0, "errmsg": "ok", "msgid"}

Errors as WeChat gives them (HTTP 200, errcode in the body): 40001 invalid or expired token,
42001 token expired, 40013 wrong appid, 40125 wrong secret, 40037 unknown template,
43101 the user refused (no consent: a revoked user), 45009 rate limit (more than
`rate_per_second` sends in one second, or the ``rate_limit_send`` fault), -1 busy.
Delivered messages land in `inbox` (tests read it; ``GET /__standin/inbox`` over HTTP).
"""
from __future__ import annotations

import json
import secrets
import threading
from typing import Any, Callable

TOKEN_TTL = 7200
OLD_TOKEN_GRACE = 300


class SubscribeMessages:
    def __init__(self, app_id: str, app_secret: str, clock: Callable[[], float], take_fault: Callable[[str], bool],
                 *, rate_per_second: int = 1000) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.clock, self.take_fault = clock, take_fault
        self.rate_per_second = rate_per_second
        self.tokens: dict[str, float] = {}                 # token -> expires at
        self.current: str | None = None
        self.revoked: set[str] = set()                     # openids that refused / revoked consent
        self.templates: set[str] | None = None             # None: every template id is known
        self.inbox: list[dict[str, Any]] = []
        self.token_requests = 0
        self._window: tuple[int, int] = (0, 0)
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, query: dict[str, str], body: bytes) -> dict[str, Any] | None:
        if path == "/cgi-bin/stable_token":
            return self._stable_token(body)
        if path == "/cgi-bin/message/subscribe/send":
            return self._send(query, body)
        if path == "/__standin/inbox":
            return {"inbox": list(self.inbox)}
        return None

    def expire_tokens(self) -> None:
        """Every token WeChat handed out stops working (as after its 2 hours)."""
        with self._lock:
            self.tokens.clear()

    def _stable_token(self, body: bytes) -> dict[str, Any]:
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return {"errcode": 47001, "errmsg": "data format error"}
        if doc.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if doc.get("appid") != self.app_id:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if not secrets.compare_digest(str(doc.get("secret", "")).encode(), self.app_secret.encode()):
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        now = self.clock()
        with self._lock:
            self.token_requests += 1
            current = self.current if self.current in self.tokens and self.tokens[self.current] > now else None
            if current is None or doc.get("force_refresh"):
                if current is not None:
                    self.tokens[current] = min(self.tokens[current], now + OLD_TOKEN_GRACE)
                current = secrets.token_urlsafe(48)
                self.tokens[current] = now + TOKEN_TTL
                self.current = current
            return {"access_token": current, "expires_in": int(self.tokens[current] - now)}

    def _send(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        now = self.clock()
        token = query.get("access_token", "")
        with self._lock:
            expires = self.tokens.get(token)
            if expires is None:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            if expires <= now:
                return {"errcode": 42001, "errmsg": "access_token expired"}
            second, count = self._window
            count = count + 1 if int(now) == second else 1
            self._window = (int(now), count)
        if self.take_fault("busy"):
            return {"errcode": -1, "errmsg": "system error"}
        if self.take_fault("rate_limit_send") or count > self.rate_per_second:
            return {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return {"errcode": 47001, "errmsg": "data format error"}
        if not doc.get("touser") or not doc.get("template_id") or not isinstance(doc.get("data"), dict):
            return {"errcode": 47003, "errmsg": "argument invalid! data.xxx.value is empty"}
        if self.templates is not None and doc["template_id"] not in self.templates:
            return {"errcode": 40037, "errmsg": "invalid template_id"}
        if doc["touser"] in self.revoked:
            return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
        msgid = int(now * 1000) * 1000 + len(self.inbox)
        self.inbox.append({**doc, "msgid": msgid})
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

"""Stand-ins for third-party APIs, answering like the real ones over real HTTP.

Each stand-in answers through the loopback server all stand-ins share
(`local.loopback.LoopbackServer`):

    with WeChatStandIn("wx-app", "secret") as wechat:      # start() -> base URL
        code = wechat.mint_code("openid-1")                # what wx.login() would give
        ... exchange_code("wechat", code, wechat_api_base=wechat.base_url, ...)

They are also runnable on their own (``python -m local.standins.wechat_api --port N``)
and driven over HTTP through control endpoints under ``/__standin/``:

* ``POST /__standin/codes``  mint a login code (body is provider specific)
* ``POST /__standin/faults`` arm faults for the next n calls, e.g. ``{"busy": 2}``
* ``GET  /__standin/health`` liveness

Codes behave like the real ones: single use, expiring after `code_ttl_seconds`
(measured with the instance's ``clock``, which tests may replace).

Only the standard library is used here so that the stand-ins start fast.
"""
from __future__ import annotations

import abc
import argparse
import json
import secrets
import threading
import time
from typing import Any, Callable

from local.loopback import (LOOPBACK_HOSTS, UTF8_JSON_TYPE, LoopbackServer, Reply, Request,
                            serve_until_stopped)

CONTROL_PREFIX = "/__standin"

__all__ = ["CONTROL_PREFIX", "CodeBook", "LOOPBACK_HOSTS", "PaymentControls", "Reply", "Request", "StandIn",
           "base_arguments",
           "generate_key_pair", "json_reply", "run_standalone"]


def json_reply(payload: Any, status: int = 200, *, content_type: str = UTF8_JSON_TYPE) -> Reply:
    """JSON as the providers write it: compact UTF-8, not escaped."""
    return Reply.json(payload, status, content_type=content_type, ensure_ascii=False)


def generate_key_pair() -> tuple[str, str]:
    """A fresh RSA 2048 key pair as (private PKCS#8 PEM, public SPKI PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


class CodeBook:
    """Single-use, expiring login codes. Thread safe."""

    UNKNOWN, USED, EXPIRED = "unknown", "used", "expired"

    def __init__(self, clock: Callable[[], float], ttl_seconds: float, make_code: Callable[[], str]) -> None:
        self._clock = clock
        self._ttl = ttl_seconds
        self._make_code = make_code
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[float, dict[str, Any]]] = {}
        self._used: dict[str, float] = {}

    def mint(self, claims: dict[str, Any]) -> str:
        now = self._clock()
        with self._lock:
            self._prune(now)
            code = self._make_code()
            self._codes[code] = (now, dict(claims))
            return code

    def redeem(self, code: str) -> tuple[str, dict[str, Any] | None]:
        """("ok", claims) once; then ("used", None). ("expired"|"unknown", None) otherwise."""
        now = self._clock()
        with self._lock:
            if code in self._used:
                return self.USED, None
            entry = self._codes.get(code)
            if entry is None:
                return self.UNKNOWN, None
            minted_at, claims = entry
            if now - minted_at > self._ttl:
                return self.EXPIRED, None
            del self._codes[code]
            self._used[code] = now
            return "ok", claims

    def is_spent(self, code: str) -> bool:
        with self._lock:
            return code in self._used

    def _prune(self, now: float) -> None:
        # Keep spent and expired codes for a while so they answer "used"/"expired"
        # rather than "unknown"; forget them after ten lifetimes.
        horizon = now - 10 * self._ttl
        for code in [c for c, (t, _) in self._codes.items() if t < horizon]:
            del self._codes[code]
        for code in [c for c, t in self._used.items() if t < horizon]:
            del self._used[code]


class StandIn(abc.ABC):
    """Base class: a provider API on the shared loopback server, with control endpoints.

    Subclasses implement `handle(request) -> Reply | None` for the provider API,
    `mint_from_json(body) -> str` for ``POST /__standin/codes``, and list their
    fault names in `FAULTS`.
    """

    NAME = "stand-in"
    FAULTS: tuple[str, ...] = ()
    code_ttl_seconds: float = 300.0

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1",
                 clock: Callable[[], float] = time.time) -> None:
        #: time source for code expiry; tests replace it (``standin.clock = lambda: ...``)
        self.clock = clock
        self.codes = CodeBook(lambda: self.clock(), self.code_ttl_seconds, self.new_code)
        self.slow_seconds = 2.0
        self._faults: dict[str, int] = {}
        self._faults_lock = threading.Lock()
        #: the last provider API request served (control endpoints excluded), for assertions
        self.last_request: Request | None = None
        # WeChat's query string carries the app secret: the server logs nothing.
        self.server = LoopbackServer(self.dispatch, name=self.NAME, host=host, port=port)

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> str:
        return self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> "StandIn":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base_url(self) -> str:
        return self.server.url

    # -- faults -----------------------------------------------------------------
    def inject_fault(self, **counts: int) -> dict[str, int]:
        """Arm faults for the next n provider calls, e.g. ``inject_fault(busy=2)``."""
        unknown = set(counts) - set(self.FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {list(self.FAULTS)}")
        with self._faults_lock:
            for name, n in counts.items():
                if not isinstance(n, int) or n < 0:
                    raise ValueError(f"fault count for {name} must be a non-negative integer")
                self._faults[name] = n
            return dict(self._faults)

    def take_fault(self, name: str) -> bool:
        """True (and one fewer left) when fault `name` is armed."""
        with self._faults_lock:
            left = self._faults.get(name, 0)
            if left <= 0:
                return False
            self._faults[name] = left - 1
            return True

    # -- to implement -------------------------------------------------------------
    def new_code(self) -> str:
        return secrets.token_hex(16)

    @abc.abstractmethod
    def handle(self, request: Request) -> Reply | None:
        """Answer one provider API request (None: not a path this provider serves)."""

    def mint_from_json(self, body: dict[str, Any]) -> str:
        """Mint a login code from the control endpoint's JSON body (login providers override this)."""
        raise ValueError(f"{self.NAME} does not mint login codes")

    def describe(self) -> dict[str, Any]:
        """What the standalone runner prints once listening."""
        return {"standin": self.NAME, "base_url": self.base_url}

    # -- dispatch -----------------------------------------------------------------
    def dispatch(self, request: Request) -> Reply | None:
        if request.path.startswith(CONTROL_PREFIX + "/"):
            return self._control(request)
        self.last_request = request
        return self.handle(request)

    def _control(self, request: Request) -> Reply:
        action = request.path[len(CONTROL_PREFIX) + 1:]
        try:
            if action == "health" and request.method == "GET":
                return json_reply({"ok": True, **self.describe()})
            if action == "codes" and request.method == "POST":
                return json_reply({"code": self.mint_from_json(request.json_object())})
            if action == "faults" and request.method == "POST":
                body = request.json_object()
                if "slow_seconds" in body:
                    self.slow_seconds = float(body.pop("slow_seconds"))
                return json_reply({"faults": self.inject_fault(**body)})
        except (ValueError, TypeError) as exc:
            return json_reply({"error": str(exc)}, 400)
        return json_reply({"error": "no such control endpoint", "path": request.path}, 404)


class PaymentControls:
    """The payment stand-ins' control endpoints, before StandIn's in the bases:

    * ``POST /__standin/pay {"out_trade_no": .., "amount"?: .., "allow_expired"?: ..}`` the buyer pays
      and the provider notifies the merchant (``pay``);
    * ``POST /__standin/resend {"out_trade_no": ..}`` the provider notifies again (``resend``);
    * ``POST /__standin/bills {"bill_fault": ..}`` the next bills' deliberate fault (local.standins.bills).

    Both answer where the notification went and whether the merchant acknowledged it."""

    #: the provider's name for its own trade id, answered beside out_trade_no
    TRADE_ID = "trade_no"

    def _control(self, request: Request) -> Reply:
        action = request.path[len(CONTROL_PREFIX) + 1:]
        if request.method == "POST" and action == "bills" and hasattr(self, "bill_control"):
            try:
                return json_reply(self.bill_control(request.json_object()))
            except (KeyError, LookupError, ValueError, TypeError) as exc:
                return json_reply({"error": str(exc)}, 400)
        if request.method == "POST" and action == "refunds" and hasattr(self, "refund_control"):
            try:
                return json_reply(self.refund_control(request.json_object()))
            except (KeyError, LookupError, ValueError, TypeError) as exc:
                return json_reply({"error": str(exc)}, 400)
        if request.method != "POST" or action not in ("pay", "resend"):
            return super()._control(request)  # type: ignore[misc]
        try:
            body = request.json_object()
            no = str(body["out_trade_no"])
            if action == "pay":
                note = self.pay(no, amount=body.get("amount"), allow_expired=bool(body.get("allow_expired")))
            else:
                note = self.resend(no)
        except (KeyError, LookupError, ValueError, TypeError) as exc:
            return json_reply({"error": str(exc)}, 400)
        return json_reply({"out_trade_no": no, self.TRADE_ID: getattr(self.trades[no], self.TRADE_ID),
                           "delivered_to": note.url, "status": note.status, "reply": note.reply,
                           "acknowledged": note.acknowledged})


def run_standalone(standin: StandIn) -> None:
    """Start, print one JSON line describing the stand-in, serve until SIGINT/SIGTERM."""
    standin.start()
    print(json.dumps(standin.describe(), ensure_ascii=False), flush=True)
    try:
        serve_until_stopped()
    finally:
        standin.stop()


def base_arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", choices=LOOPBACK_HOSTS, help="loopback address")
    return parser

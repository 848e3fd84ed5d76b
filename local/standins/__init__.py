"""Stand-ins for third-party APIs, answering like the real ones over real HTTP.

Each stand-in is a small `http.server.ThreadingHTTPServer` on loopback:

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
import signal
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit
from local.loopback import LoopbackHTTPServer

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
CONTROL_PREFIX = "/__standin"


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"

    @classmethod
    def json(cls, payload: Any, status: int = 200, content_type: str = "application/json; charset=utf-8") -> "Reply":
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return cls(status, text.encode("utf-8"), content_type)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def form(self) -> dict[str, str]:
        """Query string and url-encoded body merged (body wins), as gateways read them."""
        params = dict(self.query)
        ctype = self.headers.get("content-type", "")
        if self.body and (not ctype or "x-www-form-urlencoded" in ctype):
            params.update(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        return params

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        value = json.loads(self.body.decode("utf-8"))
        if not isinstance(value, dict):
            raise ValueError("body must be a JSON object")
        return value


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
    """Base class: a loopback HTTP server in a daemon thread, with control endpoints.

    Subclasses implement `handle(request) -> Reply | None` for the provider API,
    `mint_from_json(body) -> str` for ``POST /__standin/codes``, and list their
    fault names in `FAULTS`.
    """

    NAME = "stand-in"
    FAULTS: tuple[str, ...] = ()
    code_ttl_seconds: float = 300.0

    def __init__(self, port: int = 0, *, host: str = "127.0.0.1",
                 clock: Callable[[], float] = time.time) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"stand-ins listen on loopback only, not {host!r}")
        self.host = host
        self.port = port
        #: time source for code expiry; tests replace it (``standin.clock = lambda: ...``)
        self.clock = clock
        self.codes = CodeBook(lambda: self.clock(), self.code_ttl_seconds, self.new_code)
        self.slow_seconds = 2.0
        self._faults: dict[str, int] = {}
        self._faults_lock = threading.Lock()
        #: the last provider API request served (control endpoints excluded), for assertions
        self.last_request: Request | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        server = _Server((self.host, self.port), _handler_for(self))
        self._server = server
        self.port = server.server_address[1]
        # a short poll interval keeps stop() quick (shutdown waits for one poll)
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.NAME}:{self.port}", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "StandIn":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

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
    def dispatch(self, request: Request) -> Reply:
        if request.path.startswith(CONTROL_PREFIX + "/"):
            return self._control(request)
        self.last_request = request
        reply = self.handle(request)
        return reply or Reply.json({"error": "not found", "path": request.path}, status=404)

    def _control(self, request: Request) -> Reply:
        action = request.path[len(CONTROL_PREFIX) + 1:]
        try:
            if action == "health" and request.method == "GET":
                return Reply.json({"ok": True, **self.describe()})
            if action == "codes" and request.method == "POST":
                return Reply.json({"code": self.mint_from_json(request.json())})
            if action == "faults" and request.method == "POST":
                body = request.json()
                if "slow_seconds" in body:
                    self.slow_seconds = float(body.pop("slow_seconds"))
                return Reply.json({"faults": self.inject_fault(**body)})
        except (ValueError, TypeError) as exc:
            return Reply.json({"error": str(exc)}, status=400)
        return Reply.json({"error": "no such control endpoint", "path": request.path}, status=404)


_Server = LoopbackHTTPServer


def _handler_for(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a stopped stand-in cannot keep
        # answering on a connection pooled by a client.
        protocol_version = "HTTP/1.0"
        server_version = "standin"
        sys_version = ""
        timeout = 30

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(
                method=self.command,
                path=split.path,
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                body=body,
                headers={k.lower(): v for k, v in self.headers.items()},
            )
            try:
                reply = standin.dispatch(request)
            except Exception as exc:  # a stand-in bug must show, not hang the client
                reply = Reply.json({"error": f"stand-in failure: {type(exc).__name__}: {exc}"}, status=500)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            # The default logs the request line, query string included, and the
            # WeChat query string carries the app secret. Stay quiet.
            return

    return Handler


def run_standalone(standin: StandIn) -> None:
    """Start, print one JSON line describing the stand-in, serve until SIGINT/SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    standin.start()
    print(json.dumps(standin.describe(), ensure_ascii=False), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


def base_arguments(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", choices=LOOPBACK_HOSTS, help="loopback address")
    return parser

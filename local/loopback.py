"""The one HTTP server every local stand-in uses, on loopback only.

The login and payment providers (local.standins), IVS (control plane and
playback), the IoT data plane's Publish API (local.mqtt), the Lambda Invoke API
and the API Gateway emulation all serve `handle(request) -> Reply` through a
`LoopbackServer`:

    def handle(request: Request) -> Reply | None:      # None: 404 {"error": "not found", ...}
        return Reply.json({"ok": True})

    with LoopbackServer(handle, name="wechat", port=0) as server:     # start() -> base URL
        urllib.request.urlopen(server.url + "/anything")

`Router` maps a method and a path pattern to a handler where that reads better
than a chain of ifs. Only the standard library is used, so stand-ins start fast.
"""
from __future__ import annotations

import json
import logging
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
JSON_TYPE = "application/json"
UTF8_JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ANY_METHOD = "*"   # LoopbackServer(methods=ANY_METHOD): every method, TRACE and made-up ones too, is handled
_NO_BODY_STATUSES = (204, 304)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)       # lower-case names
    target: str = ""                                            # path and query exactly as sent (signatures
                                                                # cover it; `//a` stays `//a`)
    raw_headers: dict[str, str] = field(default_factory=dict)   # names as sent
    client: str = "127.0.0.1"
    received: float = 0.0                                       # time.perf_counter() at arrival

    def json(self) -> Any:
        """The JSON body ({} when empty). Raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8")) if self.body else {}

    def json_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object ({} when empty). Raises ValueError otherwise."""
        value = self.json()
        if not isinstance(value, dict):
            raise ValueError("body must be a JSON object")
        return value

    def form(self) -> dict[str, str]:
        """Query string and url-encoded body merged (body wins), as gateways and nginx-rtmp send them."""
        params = dict(self.query)
        ctype = self.headers.get("content-type", "")
        if self.body and (not ctype or "x-www-form-urlencoded" in ctype):
            params.update(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        return params


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None, *,
             content_type: str = JSON_TYPE, ensure_ascii: bool = True,
             separators: tuple[str, str] | None = (",", ":")) -> "Reply":
        text = json.dumps(payload, ensure_ascii=ensure_ascii, separators=separators)
        return cls(status, text.encode("utf-8"), {"Content-Type": content_type, **(headers or {})})

    @classmethod
    def text(cls, text: str, status: int = 200, headers: dict[str, str] | None = None, *,
             content_type: str = TEXT_TYPE) -> "Reply":
        return cls(status, text.encode("utf-8"), {"Content-Type": content_type, **(headers or {})})

    @property
    def content_type(self) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), None)


Handle = Callable[[Request], "Reply | None"]


class Router:
    """Routes a request by method and path (a regular expression matched in full);
    the handler gets the request and the pattern's groups. The first match answers;
    no match: `fallback(request)` (None by default, which the server answers 404)."""

    def __init__(self, fallback: Handle | None = None) -> None:
        self._routes: list[tuple[frozenset[str], re.Pattern[str], Callable[..., Reply | None]]] = []
        self._fallback = fallback

    def add(self, methods: str | Iterable[str], pattern: str, handler: Callable[..., "Reply | None"]) -> "Router":
        names = frozenset([methods] if isinstance(methods, str) else methods)
        self._routes.append((names, re.compile(pattern), handler))
        return self

    def __call__(self, request: Request) -> Reply | None:
        for methods, pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and request.method in methods:
                return handler(request, *match.groups())
        return self._fallback(request) if self._fallback else None


def _error(message: str, status: int, **extra: Any) -> Reply:
    return Reply.json({"error": message, **extra}, status, content_type=UTF8_JSON_TYPE, ensure_ascii=False)


def not_found(request: Request) -> Reply:
    return _error("not found", 404, path=request.path)


def stand_in_failure(request: Request, exc: Exception) -> Reply:
    """A stand-in bug must show, not hang the client."""
    return _error(f"stand-in failure: {type(exc).__name__}: {exc}", 500)


def protocol_error(status: int, message: str) -> Reply:
    """What a stand-in answers a request it could not read (bad request line, header or
    version, a method it does not serve): JSON like its other errors, not the standard
    library's HTML page."""
    return _error(message, status)


def die_with_parent():
    """A Popen preexec_fn: the child gets SIGTERM when the process that started it dies, even by
    `kill -9` (Linux PR_SET_PDEATHSIG), so no orphan keeps the stack's ports. None off the main
    thread: the kernel ties the signal to the starting thread, not the process."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    PR_SET_PDEATHSIG = 1

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


def serve_until_stopped() -> None:
    """Block until SIGTERM or Ctrl-C (the runners of `python -m local...`).

    SIGINT gets an explicit handler too: a process started in the background of a
    non-interactive shell (a CI script's `cmd &`) inherits SIGINT ignored, and Python
    then installs no KeyboardInterrupt for it, so Ctrl-C's signal would be lost."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A thread per connection, daemon threads, and a listen backlog of 128: with
    socketserver's default of 5, a burst of concurrent clients overflows the accept
    queue and the kernel drops their SYNs, which clients retry only a second later.
    Open connections are remembered, so closing the server also closes kept-alive
    ones: a client's pooled connection cannot outlive the server."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._connections.discard(request)

    def server_close(self) -> None:
        super().server_close()
        for connection in list(self._connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class LoopbackServer:
    """Serves `handle` on host:port (0: a free port) in a daemon thread.

    ``keep_alive``: HTTP/1.1 with persistent connections (as AWS endpoints and API
    Gateway answer; boto3 then reuses its connection), else HTTP/1.0, one request
    per connection, so a stopped stand-in cannot keep answering on a pooled one.
    ``max_body`` and ``too_large``: a request announcing a larger body is answered
    ``too_large`` unread, and its connection closed. ``on_error`` answers a handler
    that raised. ``log``: where the request lines go (None: nowhere, as URLs may carry
    secrets, tokens and stream keys). ``methods``: the methods served (others: 501), or
    ANY_METHOD. ``on_protocol_error(status, message)`` answers what the HTTP layer
    refuses before a request exists (a malformed request line, an unsupported HTTP
    version, too many headers, a method not served).
    """

    def __init__(self, handle: Handle, *, name: str = "loopback", host: str = "127.0.0.1", port: int = 0,
                 keep_alive: bool = False, server_version: str = "standin", timeout: float | None = 30,
                 max_body: int | None = None, too_large: Reply | None = None,
                 on_error: Callable[[Request, Exception], Reply] = stand_in_failure,
                 log: logging.Logger | None = None, methods: Iterable[str] | str = ALL_METHODS,
                 on_protocol_error: Callable[[int, str], Reply] = protocol_error) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"stand-ins listen on loopback only, not {host!r}")
        self.handle = handle
        self.name = name
        self.host = host
        self.port = port
        self.keep_alive = keep_alive
        self.server_version = server_version
        self.timeout = timeout
        self.max_body = max_body
        self.too_large = too_large or _error("request body too large", 413)
        self.on_error = on_error
        self.log = log
        self.methods: tuple[str, ...] | str = ANY_METHOD if methods == ANY_METHOD else tuple(methods)
        self.on_protocol_error = on_protocol_error
        self._server: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    base_url = url

    def start(self) -> str:
        if self._server is not None:
            return self.url
        server = LoopbackHTTPServer((self.host, self.port), _handler_class(self))
        self._server = server
        self.port = server.server_address[1]
        # a short poll interval keeps stop() quick (shutdown waits for one poll)
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}:{self.port}", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "LoopbackServer":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def answer(self, request: Request) -> Reply:
        try:
            reply = self.handle(request)
        except Exception as exc:  # noqa: BLE001 - answered, never a hung client
            reply = self.on_error(request, exc)
        return reply if reply is not None else not_found(request)


def _handler_class(owner: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if owner.keep_alive else "HTTP/1.0"
        # Keep-alive answers go out as two writes (headers, body): without TCP_NODELAY the
        # body would wait for the client's delayed ACK (40 ms) on a kept-alive connection.
        disable_nagle_algorithm = owner.keep_alive
        server_version = owner.server_version
        sys_version = ""
        timeout = owner.timeout

        def _serve(self) -> None:
            received = time.perf_counter()
            length = int(self.headers.get("Content-Length") or 0)
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True  # a body not read here must not be taken for the next request
            if owner.max_body is not None and length > owner.max_body:
                self._send(owner.too_large)
                self.close_connection = True
                return
            target = self._target()
            if target.startswith("/"):
                path, _, query = target.partition("?")
            else:  # absolute-form (http://host/path) or CONNECT's authority-form (host:port)
                split = urlsplit(target)
                path, query = split.path, split.query
            raw_headers = dict(self.headers.items())
            request = Request(method=self.command, path=path,
                              query=dict(parse_qsl(query, keep_blank_values=True)),
                              body=self.rfile.read(length) if length else b"",
                              headers={k.lower(): v for k, v in raw_headers.items()},
                              target=target, raw_headers=raw_headers,
                              client=self.client_address[0], received=received)
            self._send(owner.answer(request))

        def _target(self) -> str:
            """The request target as sent: http.server rewrites a leading `//` in self.path
            to `/` (gh-87389, against open redirects in its file server), which would serve
            `//v1/me` as `/v1/me` and break a signature over the path as sent."""
            words = self.requestline.split()
            return words[1] if len(words) == 3 else self.path

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            # Everything http.server refuses on its own (400 bad request line, 414, 431,
            # 501 method not served, 505 version) as the owner's JSON, never its HTML page.
            # The connection closes after it, as http.server's own error page closes it.
            self.close_connection = True
            reply = owner.on_protocol_error(code, message or self.responses.get(code, ("error",))[0])
            reply.headers = {**reply.headers, "Connection": "close"}
            if self.request_version == "HTTP/0.9" or not getattr(self, "command", None):
                self.request_version = self.protocol_version  # answer with a status line and headers
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            bodiless = reply.status in _NO_BODY_STATUSES
            if not bodiless:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD" and not bodiless and reply.body:
                self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            if owner.log is not None:
                owner.log.info("%s %s", self.address_string(), format % args)

    if owner.methods == ANY_METHOD:
        def __getattr__(self: Handler, name: str) -> Any:  # http.server looks up do_<METHOD>
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        Handler.__getattr__ = __getattr__  # type: ignore[attr-defined]
    else:
        for method in owner.methods:
            setattr(Handler, f"do_{method}", Handler._serve)
    return Handler

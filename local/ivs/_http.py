"""A minimal threaded HTTP server on loopback for the IVS stand-in's endpoints."""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit
from local.loopback import LoopbackHTTPServer

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
log = logging.getLogger("local.ivs")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]          # lower-case names

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else {}

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> "Response":
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(),
                   {"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def text(cls, text: str, status: int, headers: dict[str, str] | None = None) -> "Response":
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8", **(headers or {})})


_Server = LoopbackHTTPServer


class LoopbackServer:
    """Serves `handle(request) -> Response` on host:port in a daemon thread."""

    def __init__(self, name: str, handle: Callable[[Request], Response], *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the IVS stand-in listens on loopback only, not {host!r}")
        self.name = name
        self.host = host
        self._handle = handle
        self._server = _Server((host, port), _handler(self))
        self.port = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"ivs-{self.name}:{self.port}", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def dispatch(self, request: Request) -> Response:
        try:
            return self._handle(request)
        except Exception as exc:  # a stand-in bug must show, not hang the client
            log.exception("IVS stand-in %s failed on %s %s", self.name, request.method, request.path)
            return Response.json({"__type": "InternalServerException",
                                  "exceptionMessage": f"stand-in failure: {type(exc).__name__}: {exc}"}, 500,
                                 {"x-amzn-ErrorType": "InternalServerException"})


def _handler(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so a stopped server cannot keep
        # answering on a connection pooled by a client.
        protocol_version = "HTTP/1.0"
        server_version = "local-ivs"
        sys_version = ""
        timeout = 30

        def _serve(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Request(self.command, split.path, dict(parse_qsl(split.query, keep_blank_values=True)),
                              body, {k.lower(): v for k, v in self.headers.items()})
            response = server.dispatch(request)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.status not in (204, 304):
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD" and response.status not in (204, 304):
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return   # URLs carry playback tokens and stream keys: stay quiet

    return Handler

"""The local API endpoint: a threaded HTTP server on loopback that hands each
request to the API Gateway emulation (local.gateway)."""
from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler

from local.loopback import LoopbackHTTPServer
from local import gateway

log = logging.getLogger("local.http")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key",
    "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "livecommerce-local"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > gateway.MAX_GATEWAY_BODY:
            self._send(413, {"Content-Type": "application/problem+json"},
                       json.dumps({"status": 413, "code": "payload_too_large", "title": "Request body too large"}))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()}
        result = gateway.handle(self.command, self.path, headers, body, source_ip=self.client_address[0])
        self._send(result.status, result.headers, result.body)

    def _send(self, status: int, headers: dict[str, str], body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        for key, value in {**CORS_HEADERS, **headers}.items():
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def do_OPTIONS(self) -> None:  # CORS preflight, as the deployed API answers it
        self._send(204, {}, "")

    def log_message(self, fmt: str, *args) -> None:
        log.info("%s %s", self.address_string(), fmt % args)


class LocalApiServer(LoopbackHTTPServer):
    allow_reuse_address = True

    def __init__(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

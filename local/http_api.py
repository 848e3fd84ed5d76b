"""The local API endpoint: the loopback server handing each request to the API
Gateway emulation (local.gateway)."""
from __future__ import annotations

import json
import logging

from local import gateway
from local.loopback import LoopbackServer, Reply, Request

log = logging.getLogger("local.http")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key",
    "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
}
TOO_LARGE = Reply(413, json.dumps({"status": 413, "code": "payload_too_large",
                                   "title": "Request body too large"}).encode(),
                  {**CORS_HEADERS, "Content-Type": "application/problem+json"})


def handle(request: Request) -> Reply:
    if request.method == "OPTIONS":  # CORS preflight, as the deployed API answers it
        return Reply(204, b"", dict(CORS_HEADERS))
    result = gateway.handle(request.method, request.target, request.raw_headers, request.body or None,
                            source_ip=request.client)
    headers = {key: value for key, value in {**CORS_HEADERS, **result.headers}.items()
               if key.lower() not in ("content-length", "connection")}
    return Reply(result.status, result.body.encode("utf-8"), headers)


class LocalApiServer(LoopbackServer):
    """API Gateway on loopback: kept-alive HTTP/1.1 connections, its 10 MB body limit."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        super().__init__(handle, name="api", host=host, port=port, keep_alive=True, timeout=None,
                         server_version="livecommerce-local", max_body=gateway.MAX_GATEWAY_BODY,
                         too_large=TOO_LARGE, log=log, methods=("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

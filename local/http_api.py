"""The local API endpoint: the loopback server handing each request to the API
Gateway emulation (local.gateway)."""
from __future__ import annotations

import json
import logging
import threading
from collections import Counter

from livecommerce import manifest
from livecommerce.shared.gateway_responses import body_for
from local import gateway, web_static
from local.loopback import ANY_METHOD, LoopbackServer, Reply, Request

log = logging.getLogger("local.http")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization,Content-Type,Idempotency-Key",
    "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
}
_ROUTE_METHODS = tuple(sorted({route.method for route in manifest.ROUTES}))
TOO_LARGE = Reply(413, json.dumps({"status": 413, "code": "payload_too_large",
                                   "title": "Request body too large"}).encode(),
                  {**CORS_HEADERS, "Content-Type": "application/problem+json"})


def _is_resource(target: str) -> bool:
    """Whether the deployed API has a resource at this path (any method on it)."""
    path = target.partition("?")[0]
    path = "/" + path.lstrip("/") if path.startswith("//") else path
    return any(manifest.match(method, path) is not None for method in _ROUTE_METHODS)


# Requests that reached the gateway emulation (so a Lambda function), by method and path: what
# the edge cache (local.edge_cache) let through to the origin. benchmarks/room_entry.py reads it
# at GET /_local/origin-requests (a local introspection path; API Gateway has no such resource).
ORIGIN_REQUESTS: Counter[str] = Counter()
_origin_lock = threading.Lock()
INTROSPECTION_PATH = "/_local/origin-requests"


# The work waiting behind the API (local.stack.LocalStack.background_backlog: the worker pool's
# figures per caller kind, the event queues' depth), at GET /_local/background for benchmarks/local_load.py.
background_probe = None
BACKGROUND_PATH = "/_local/background"


# Public rooms' covers (the web distribution's /covers/* on AWS): local.public_covers.PublicCovers, set by local.stack.
public_covers = None


def handle(request: Request) -> Reply:
    # The web clients under the API's origin (CloudFront serves them on AWS): /console/, /watch/<room>, /ops/.
    web = web_static.serve(request)
    if web is not None:
        return web
    if public_covers is not None:
        cover = public_covers.serve(request)
        if cover is not None:
            return cover
    if request.method == "GET" and request.target.partition("?")[0] == INTROSPECTION_PATH:
        with _origin_lock:
            counts = dict(ORIGIN_REQUESTS)
        return Reply(200, json.dumps(counts).encode(), {"Content-Type": "application/json"})
    if request.method == "GET" and background_probe is not None and request.target == BACKGROUND_PATH:
        return Reply(200, json.dumps(background_probe()).encode(), {"Content-Type": "application/json"})
    with _origin_lock:
        ORIGIN_REQUESTS[f"{request.method} {request.target.partition('?')[0]}"] += 1
    # Every method, TRACE, CONNECT and made-up ones included, goes to the gateway emulation:
    # API Gateway has methods only for DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT (ANY is
    # those seven), and a method with no resource method answers MISSING_AUTHENTICATION_TOKEN
    # (403 {"message":"Missing Authentication Token"} by default, e.g. PUT on a GET-only resource:
    # akrabat.com/returning-405-from-aws-api-gateway-when-method-doesnt-exist; ours is the
    # route_not_found problem). HEAD is no GET: a resource with only GET has no HEAD method
    # (LocalStack's ApiGatewayMethodRule drops werkzeug's implicit HEAD for that reason).
    if request.method == "OPTIONS" and _is_resource(request.target):
        # The CORS preflight CDK puts on every resource (default_cors_preflight_options);
        # a path with no resource has none.
        return Reply(204, b"", dict(CORS_HEADERS))
    result = gateway.handle(request.method, request.target, request.raw_headers, request.body or None,
                            source_ip=request.client)
    # The function's headers as it set them: the deployed API adds no CORS header to a Lambda
    # proxy answer (only the preflight and the gateway responses carry them), so neither does
    # this, or a browser client would work here and not on AWS.
    headers = {key: value for key, value in result.headers.items()
               if key.lower() not in ("content-length", "connection")}
    return Reply(result.status, result.body.encode("utf-8"), headers)


def protocol_error(status: int, message: str) -> Reply:
    """A request the HTTP layer cannot read (request line, version, headers). API Gateway's
    front end refuses those before any gateway response applies; here they get our
    DEFAULT_4XX problem with the status the HTTP layer chose, never an HTML page."""
    problem = json.loads(body_for("DEFAULT_4XX"))
    problem.update(status=status, detail=message)
    return Reply(status, json.dumps(problem).encode(), {**CORS_HEADERS, "Content-Type": "application/problem+json"})


class LocalApiServer(LoopbackServer):
    """API Gateway on loopback: kept-alive HTTP/1.1 connections, its 10 MB body limit, every
    method through the gateway emulation."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        super().__init__(handle, name="api", host=host, port=port, keep_alive=True, timeout=None,
                         server_version="livecommerce-local", max_body=gateway.MAX_GATEWAY_BODY,
                         too_large=TOO_LARGE, log=log, methods=ANY_METHOD, on_protocol_error=protocol_error)

"""The route table: one list read by the API stack, the local API server and
the authorization matrix test.

`function` names the Lambda (folder under functions/) that serves the route;
`auth` says whether API Gateway runs the token authorizer first ("token") or
lets the call through anonymously ("public"). Role checks (viewer, host,
operator) happen in the handlers, so `roles` here documents and tests them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Auth = Literal["public", "token"]

# How long API Gateway keeps the token authorizer's answer for one Authorization header.
# The authorizer allows the whole API for a valid token, so one answer serves every route.
# A token can therefore be used up to this long after it expires (or its user is changed).
AUTHORIZER_CACHE_SECONDS = 300
Who = Literal["anyone", "viewer", "host", "operator", "owner", "provider"]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    auth: Auth
    who: Who
    max_body_bytes: int = 16 * 1024

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


ROUTES: tuple[Route, ...] = (
    # identity
    Route("POST", "/v1/auth/login", "identity", "public", "anyone"),
    Route("GET", "/v1/me", "identity", "token", "viewer"),
    Route("POST", "/v1/hosts", "identity", "token", "operator"),
    Route("GET", "/v1/hosts/{host_id}", "identity", "public", "anyone"),
    Route("PUT", "/v1/hosts/{host_id}/follow", "identity", "token", "viewer"),
    Route("DELETE", "/v1/hosts/{host_id}/follow", "identity", "token", "viewer"),
    # rooms
    Route("POST", "/v1/rooms", "rooms", "token", "host"),
    Route("GET", "/v1/rooms", "rooms", "public", "anyone"),
    Route("GET", "/v1/rooms/{room_id}", "rooms", "public", "anyone"),
    Route("PATCH", "/v1/rooms/{room_id}", "rooms", "token", "host"),
    Route("PUT", "/v1/rooms/{room_id}/reservation", "rooms", "token", "viewer"),
    Route("DELETE", "/v1/rooms/{room_id}/reservation", "rooms", "token", "viewer"),
    Route("GET", "/v1/me/reservations", "rooms", "token", "viewer"),
    Route("GET", "/v1/rooms/{room_id}/ingest", "rooms", "token", "host"),
    # API.md wrote `stream-key:rotate`; API Gateway resource paths do not allow ':'.
    Route("POST", "/v1/rooms/{room_id}/stream-key/rotate", "rooms", "token", "host"),
    Route("GET", "/v1/rooms/{room_id}/playback", "rooms", "token", "viewer"),
    Route("POST", "/v1/rooms/{room_id}/start", "rooms", "token", "host"),
    Route("POST", "/v1/rooms/{room_id}/end", "rooms", "token", "host"),
    Route("POST", "/v1/rooms/{room_id}/materials", "rooms", "token", "host"),
    Route("GET", "/v1/rooms/{room_id}/materials", "rooms", "token", "host"),
    # API description
    Route("GET", "/openapi.json", "docs", "public", "anyone"),
    Route("GET", "/docs", "docs", "public", "anyone"),
)


def _context_routes() -> tuple[Route, ...]:
    # Contexts that keep their own wiring (routes, tables, subscriptions, routers).
    from livecommerce import wiring

    found: list[Route] = []
    for module in wiring.context_modules():
        found.extend(getattr(module, "ROUTES", ()))
    return tuple(found)


ROUTES = ROUTES + _context_routes()

FUNCTIONS: tuple[str, ...] = tuple(sorted({r.function for r in ROUTES}))


def routes_for(function: str) -> list[Route]:
    return [r for r in ROUTES if r.function == function]


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """Find the route for a concrete path, as API Gateway does for resources."""
    parts = path.rstrip("/").split("/") if path != "/" else [""]
    for route in ROUTES:
        if route.method != method:
            continue
        template = route.path.split("/")
        if len(template) != len(parts):
            continue
        params: dict[str, str] = {}
        for t, p in zip(template, parts):
            if t.startswith("{") and t.endswith("}"):
                if not p:
                    break
                params[t[1:-1]] = p
            elif t != p:
                break
        else:
            return route, params
    return None


"""The one reading of `Authorization: Bearer <token>` (API Gateway authorizer, public routes, realtime)."""
from __future__ import annotations

from typing import Any, Mapping


def authorization(headers: Mapping[str, Any] | None) -> str:
    """The Authorization header's value, whatever the case of its name ('' when absent)."""
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            return str(value or "")
    return ""


def bearer_token(headers: Mapping[str, Any] | None) -> str | None:
    """The token of a `Bearer` Authorization header (scheme case-insensitive), or None when the
    header is missing, has another scheme or carries no token."""
    scheme, _, token = authorization(headers).strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token

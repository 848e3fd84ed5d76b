"""Opaque cursors for paged lists (DynamoDB's LastEvaluatedKey, encoded)."""
from __future__ import annotations

import base64
import json
from typing import Any

from livecommerce.shared import problems


def encode(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, *, allowed_keys: set[str]) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (ValueError, TypeError):
        value = None
    if not isinstance(value, dict) or not value or set(value) - allowed_keys:
        raise problems.ValidationFailed("cursor: not a cursor this list gave out.",
                                        errors=[{"field": "query.cursor", "message": "invalid cursor",
                                                 "type": "value_error"}])
    return value

"""Opaque cursors for paged lists: DynamoDB's LastEvaluatedKey, signed and bound.

A cursor is `<key>.<mac>`, both base64url: the key is the LastEvaluatedKey as compact
JSON; the mac is HMAC-SHA256, with the platform's cursor signing key, over the list's
name, its owner (the caller whose list it is; empty for a public list), the partition
that was queried and the key. So a client cannot make a cursor up, edit one, or take one
to another list or another user's list: each is 422 `invalid_cursor` on `query.cursor`,
and DynamoDB never sees a start key we did not give out. The key's shape is checked as
well (exactly the attributes of the list's index, each a bounded string, the partition
the one being asked for), so even a key signed by mistake cannot reach DynamoDB malformed.

The key lives in Secrets Manager (platform_spec.CURSOR_SECRET, CURSOR_SECRET_ID); it is
fetched once per container and kept a while (shared.secret_keys), and the previous version
(AWSPREVIOUS) verifies too, so rotating it does not break a client in the middle of a list.
Cursors carry no expiry: a cursor is only as good as the list position it names.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

from livecommerce.shared import problems
from livecommerce.shared.observability import logger
from livecommerce.shared.secret_keys import RotatingSecretKeys
from livecommerce.shared.settings import get_settings

MAX_CURSOR_CHARS = 1024          # the routers' Query(max_length=...) says the same to clients
MAX_KEY_VALUE_CHARS = 1024       # DynamoDB: a sort key is at most 1024 bytes
_VERSION = "c1"
_MAC_BYTES = hashlib.sha256().digest_size
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{43}$")   # 32 bytes of mac -> 43 characters


@dataclass(frozen=True)
class Listing:
    """One paged list: its name (bound into each of its cursors), the attributes of its
    LastEvaluatedKey (the table's key plus the index's, all strings) and the attribute
    holding the partition it queries."""

    name: str
    key_attributes: frozenset[str]
    partition_attribute: str

    def __post_init__(self) -> None:
        if self.partition_attribute not in self.key_attributes:
            raise ValueError(f"{self.name}: {self.partition_attribute} is not one of its key attributes")


def listing(name: str, *, key_attributes: tuple[str, ...], partition_attribute: str) -> Listing:
    return Listing(name, frozenset(key_attributes), partition_attribute)


class CursorInvalid(problems.ValidationFailed):
    """A cursor this list did not give out to this caller (422 invalid_cursor)."""

    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__("cursor: not a cursor this list gave out; start again without one.",
                         errors=[{"field": "query.cursor", "message": "invalid cursor", "type": "value_error"}])


# -- the key ----------------------------------------------------------------------

_KEYS = RotatingSecretKeys(lambda: get_settings().cursor_secret_id)


def _keys() -> list[bytes]:
    return _KEYS.keys()


def clear_key_cache() -> None:
    _KEYS.clear()


# -- cursors ----------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, of: Listing, *, owner: str | None, partition: str, payload: bytes) -> bytes:
    # A JSON array of the bindings: unambiguous whatever characters an id holds.
    bound = json.dumps([_VERSION, of.name, owner or "", partition], separators=(",", ":")).encode()
    return hmac.new(secret, bound + b"\n" + payload, hashlib.sha256).digest()


def _shape_problem(key: Any, of: Listing, partition: str) -> str | None:
    """Why `key` is not a start key of this list's partition, or None."""
    if not isinstance(key, dict) or set(key) != of.key_attributes:
        return "attributes"
    for value in key.values():
        if not (isinstance(value, dict) and set(value) == {"S"} and isinstance(value["S"], str)
                and 0 < len(value["S"]) <= MAX_KEY_VALUE_CHARS):
            return "attribute_type"
    if key[of.partition_attribute]["S"] != partition:
        return "partition"
    return None


def encode(last_key: dict[str, Any] | None, of: Listing, *, partition: str, owner: str | None) -> str | None:
    """The cursor for the page after `last_key` (DynamoDB's LastEvaluatedKey) of the list
    `of`, for `owner` (the caller whose list it is; None for a public list)."""
    if not last_key:
        return None
    problem = _shape_problem(last_key, of, partition)
    if problem is not None:   # our own query gave this key: a wrong Listing is a bug here, not bad input
        raise ValueError(f"{of.name}: LastEvaluatedKey does not fit the listing ({problem})")
    payload = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    mac = _mac(_keys()[0], of, owner=owner, partition=partition, payload=payload)
    return f"{_b64(payload)}.{_b64(mac)}"


def decode(cursor: str | None, of: Listing, *, partition: str, owner: str | None) -> dict[str, Any] | None:
    """The start key a cursor of `encode` carries, for the same list, partition and owner;
    None for no cursor. Anything else raises CursorInvalid (422 invalid_cursor)."""
    if not cursor:
        return None
    reason = _refusal(cursor, of, partition=partition, owner=owner)
    if isinstance(reason, str):
        logger.info("cursor refused", extra={"list": of.name, "reason": reason, "cursor_chars": len(cursor)})
        raise CursorInvalid()
    return reason


def _refusal(cursor: str, of: Listing, *, partition: str, owner: str | None) -> dict[str, Any] | str:
    """The start key, or why the cursor is refused."""
    if len(cursor) > MAX_CURSOR_CHARS or not _SHAPE.match(cursor):
        return "format"
    encoded_payload, _, encoded_mac = cursor.partition(".")
    try:
        payload, mac = _unb64(encoded_payload), _unb64(encoded_mac)
    except (binascii.Error, ValueError):
        return "base64"
    if len(mac) != _MAC_BYTES:
        return "format"
    if not any(hmac.compare_digest(mac, _mac(key, of, owner=owner, partition=partition, payload=payload))
               for key in _keys()):
        return "signature"
    # Signed by us for this list, partition and owner: the rest is defence in depth.
    try:
        key = json.loads(payload)
    except ValueError:
        return "json"
    problem = _shape_problem(key, of, partition)
    return problem if problem is not None else key

"""Idempotency-Key records, written in the same transaction as the effect.

A request that creates money or stock effects (an order, a flash-sale buy, a
coupon claim, a points redemption, a payment) carries an `Idempotency-Key`.
Its record goes into the IDEMPOTENCY table *inside* the transaction that makes
the effect, on the condition that it does not exist yet: the effect and the
record commit together or not at all. A retry finds the record and is answered
from what it points at; no in-progress window exists in which a crash could
let a retry make the effect twice (the failure mode of a record written before
and completed after the effect).

A record remembers a fingerprint of the request; the same key with a
different request is refused (422), not silently answered with the first.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from livecommerce.shared import dynamo, problems
from livecommerce.shared.clock import now_iso
from livecommerce.shared.platform_spec import IDEMPOTENCY

KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{8,100}$"
_KEY_RE = re.compile(KEY_PATTERN)
DEFAULT_TTL_SECONDS = 72 * 3600   # at least 48 h: clients and payment providers retry for about a day


class IdempotencyRecord(Model):
    class Meta:
        table_name = "unbound"

    id = UnicodeAttribute(hash_key=True)
    expiration = NumberAttribute()
    scope = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    ref = UnicodeAttribute(null=True)          # the id of what the first request made
    response = JSONAttribute(null=True)        # or the answer itself
    created_at = UnicodeAttribute()


def bind() -> type[IdempotencyRecord]:
    return dynamo.bind(IdempotencyRecord, IDEMPOTENCY)


def record_id(scope: str, owner: str, key: str) -> str:
    return f"commerce:{scope}:{owner}:{key}"


def fingerprint(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_key(key: str | None) -> str:
    if not key or not _KEY_RE.match(key):
        raise problems.ValidationFailed(
            "Idempotency-Key: send 8 to 100 characters (letters, digits, '-', '_', '.', ':'), "
            "the same on every retry of this request.",
            errors=[{"field": "header.idempotency-key", "message": "8-100 of [A-Za-z0-9_.:-]",
                     "type": "value_error"}])
    return key


def new_record(scope: str, owner: str, key: str, fp: str, *, ref: str | None = None,
               response: dict | None = None, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> IdempotencyRecord:
    bind()
    return IdempotencyRecord(record_id(scope, owner, key), expiration=int(time.time()) + ttl_seconds,
                             scope=scope, fingerprint=fp, ref=ref, response=response, created_at=now_iso())


def put_condition() -> Any:
    return IdempotencyRecord.id.does_not_exist()


def find(scope: str, owner: str, key: str) -> IdempotencyRecord | None:
    bind()
    try:
        found = IdempotencyRecord.get(record_id(scope, owner, key), consistent_read=True)
    except DoesNotExist:
        return None
    if found.expiration < time.time():  # TTL deletion lags; an expired record is gone
        return None
    return found


def replayed(scope: str, owner: str, key: str, fp: str) -> IdempotencyRecord | None:
    """The first request's record, if this is a retry; 422 if the key was used for another request."""
    found = find(scope, owner, key)
    if found is None:
        return None
    if found.fingerprint != fp:
        raise problems.ValidationFailed(
            "This Idempotency-Key was already used for a different request; use a new key.",
            code="idempotency_key_reused",
            errors=[{"field": "header.idempotency-key", "message": "used for another request",
                     "type": "value_error"}])
    return found


def put_plain(record: IdempotencyRecord) -> bool:
    """Store a record on its own (no effect to pair it with). False if one exists."""
    from pynamodb.exceptions import PutError

    try:
        record.save(condition=put_condition())
    except PutError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        dynamo.raise_if_retryable(exc)
        raise
    return True

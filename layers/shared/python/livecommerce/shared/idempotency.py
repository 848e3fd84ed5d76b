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

`commit_once` is the one way a use case does this (orders, flash-sale buys,
payments, coupon claims and redemptions):

    effect = commit_once(scope, owner, key, fp,
                         build_tx=lambda: Effect(tx, value, ref=order_id),  # the effect, without the record
                         replay=lambda record: answer_from(record))         # the first request's answer

1. the record for (scope, owner, key) is looked up (skipped with check_first=False,
   when the caller has just looked, or looks only on some paths): found -> replay(record);
2. else build_tx() builds the effect's Tx (it may raise to refuse the request);
   commit_once adds the record to it, labelled IDEM_LABEL, on the condition that
   it does not exist, and commits;
3. the record's condition failed (a concurrent request with the same key won the
   race) -> replay(its record); failures of the effect's own conditions raise
   TxCancelled for the caller to read by label (and usually retry);
4. committed -> effect.after() (e.g. flush the outbox), then effect.value.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError
from pynamodb.models import Model

from livecommerce.shared import dynamo, problems
from livecommerce.shared.clock import now_iso
from livecommerce.shared.platform_spec import IDEMPOTENCY
from livecommerce.shared.tx import Tx, TxCancelled

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
    try:
        record.save(condition=put_condition())
    except PutError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            return False
        dynamo.raise_if_retryable(exc)
        raise
    return True


# -- the one commit-and-replay helper -------------------------------------------------

IDEM_LABEL = "idem"
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Effect(Generic[T]):
    """What one attempt of a use case commits: its transaction (without the record), the value
    to answer with once committed, what the record remembers (`ref`: the id of what was made,
    or `response`: the answer itself) and what to do after the commit (flush the outbox)."""

    tx: Tx
    value: T
    ref: str | None = None
    response: dict | None = None
    after: Callable[[], Any] | None = None


def commit_once(scope: str, owner: str, key: str, fp: str, build_tx: Callable[[], Effect[T]],
                replay: Callable[[IdempotencyRecord], R], *, check_first: bool = True,
                ttl_seconds: int = DEFAULT_TTL_SECONDS) -> T | R:
    """Make the effect at most once per (scope, owner, Idempotency-Key); a retry gets the first answer.

    A problem the build raises (a refusal on what it read) reaches the caller, unless (check_first)
    a request with the same key committed meanwhile: then that request's answer is replayed.

    Raises problems.ValidationFailed (422) when the key was used for another request, TxCancelled
    when the effect's own conditions failed (labels other than IDEM_LABEL), and a retryable
    Conflict when the record's condition failed but the record is not readable (expired)."""
    if check_first:
        found = replayed(scope, owner, key, fp)
        if found is not None:
            return replay(found)
    try:
        effect = build_tx()
    except problems.Problem:
        # The build refused on what it read (not enough points, sold out): when a request with this
        # key committed after the check above, its effect is why, and its answer is the answer.
        if check_first:
            found = replayed(scope, owner, key, fp)
            if found is not None:
                return replay(found)
        raise
    effect.tx.put(IDEM_LABEL, new_record(scope, owner, key, fp, ref=effect.ref, response=effect.response,
                                         ttl_seconds=ttl_seconds), put_condition())
    try:
        effect.tx.commit()
    except TxCancelled as exc:
        if IDEM_LABEL not in exc:
            raise
        found = replayed(scope, owner, key, fp)
        if found is not None:
            return replay(found)
        raise problems.Conflict("A concurrent request with this Idempotency-Key won; retry.",
                                code="concurrent_update", retryable=True) from exc
    if effect.after is not None:
        effect.after()
    return effect.value

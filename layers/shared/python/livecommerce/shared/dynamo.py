"""PynamoDB plumbing: bind models to the configured table and endpoint, and
map DynamoDB's retryable failures onto problems clients can act on."""
from __future__ import annotations

import os
import threading
from typing import Any

from livecommerce.shared import aws, problems
from livecommerce.shared.settings import get_settings
from livecommerce.shared.spec import TableSpec

_RETRYABLE_CODES = {
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "TransactionConflictException", "TransactionInProgressException",
}


_sessions = threading.local()
_sharing = False
_bound: set[Any] = set()   # the models bind() has pointed at a table


def _share_botocore_sessions() -> None:
    """PynamoDB gives every model's connection its own botocore session (per thread), and each
    session builds its own DynamoDB client: ~11 ms of CPU (~60 ms when botocore's data files are
    not yet parsed) on the first use of each of the ~85 item classes in a container, instead of
    ~4 ms for another client of a warm session. One session per thread for every connection
    keeps PynamoDB's rule (botocore sessions are not shared between threads) without paying
    for a session per table. (No model here sets its own credentials on its session.)"""
    global _sharing
    if _sharing:
        return
    import pynamodb.connection.base as pynamodb_base  # deferred: already imported by the models

    def thread_session() -> Any:
        sessions = _sessions
        session = getattr(sessions, "session", None)
        if session is None:
            session = sessions.session = aws.botocore_session()   # botocore's data files parsed once a process
        return session

    pynamodb_base.get_session = thread_session
    aws.on_reset(_forget_sessions)
    _sharing = True


def _forget_sessions() -> None:
    """aws.reset_clients (tests swap moto in and out): new sessions, and new connections for the
    models bound so far (a connection keeps the session it was given)."""
    global _sessions
    _sessions = threading.local()
    for model in list(_bound):
        model._connection = None


def bind(model: Any, spec: TableSpec) -> Any:
    """Point a PynamoDB model at the table named by the spec's env var.

    Done at call time, not import time, so tests and the local stack can set
    the environment first."""
    _share_botocore_sessions()
    _bound.add(model)
    settings = get_settings()
    name = os.environ.get(spec.env_var) or getattr(settings, spec.env_var.lower(), None)
    host = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    meta = model.Meta
    if getattr(meta, "table_name", None) != name or getattr(meta, "host", None) != host \
            or getattr(meta, "region", None) != settings.region:
        meta.table_name = name
        meta.host = host
        meta.region = settings.region
        model._connection = None
    return model


def cancellation_reasons(exc: Exception) -> list[str]:
    """The per-item reason codes of a cancelled transaction (None -> 'None')."""
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return [getattr(r, "code", None) or "None" if r is not None else "None" for r in reasons]


def error_code(exc: Exception) -> str | None:
    cause = getattr(exc, "cause_response_code", None)
    if cause:
        return cause
    inner = getattr(exc, "cause", None)
    response = getattr(inner, "response", None) or {}
    return (response.get("Error") or {}).get("Code")


def raise_if_retryable(exc: Exception) -> None:
    """Turn throttling and transaction conflicts into 409/429 the client may retry."""
    code = error_code(exc)
    reasons = cancellation_reasons(exc)
    if code in {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"} \
            or "ThrottlingError" in reasons or "ProvisionedThroughputExceeded" in reasons:
        raise problems.TooManyRequests("The store is busy; retry shortly.", code="store_busy",
                                       headers={"Retry-After": "1"}, retryable=True) from exc
    if code in _RETRYABLE_CODES or "TransactionConflict" in reasons:
        raise problems.Conflict("A concurrent change won; retry.", code="concurrent_update",
                                retryable=True) from exc

"""AWS clients, created once per container from one session, and imported lazily so that
modules which never call AWS stay cheap to import.

One boto3 session for every client: a botocore session parses its data files (the endpoint
rules, the partitions, each service's model) once and keeps them, so a second client of the same
session costs a few ms where a client of a new session pays the parsing again (docs/cold-start.md).
Sessions are not safe to share between threads while they create clients, so clients are made
under the lock; the clients themselves are thread-safe."""
from __future__ import annotations

import threading
from typing import Any, Callable

_clients: dict[str, Any] = {}
_session: list[Any] = []
_lock = threading.Lock()
_on_reset: list[Callable[[], None]] = []


def _shared_session() -> Any:
    """The container's boto3 session (call with _lock held)."""
    if not _session:
        import boto3  # deferred: boto3 costs ~100 ms to import; entry modules that load at init call it there

        _session.append(boto3.session.Session())
    return _session[0]


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                found = _shared_session().client(service)
                _clients[service] = found
    return found


def on_reset(callback: Callable[[], None]) -> None:
    """Run `callback` on every reset_clients (other holders of botocore sessions, e.g. PynamoDB's)."""
    if callback not in _on_reset:
        _on_reset.append(callback)


def reset_clients() -> None:
    """Tests swap endpoints (moto) between cases: new clients from a new session."""
    with _lock:
        _clients.clear()
        _session.clear()
    for callback in list(_on_reset):
        callback()

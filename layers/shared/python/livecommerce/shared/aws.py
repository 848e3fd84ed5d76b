"""AWS clients, created once per container from one botocore session, and imported lazily so that
modules which never call AWS stay cheap to import.

botocore, not boto3: the clients are the same botocore clients (boto3's `Session.client` makes them
with botocore), without importing boto3's resource layer and s3transfer (~50 ms of CPU at a cold
start); nothing here uses boto3's resources or its S3 transfer methods.

One data loader for every botocore session of the process (`botocore_session()`): a session parses
botocore's data files (the endpoint rules, the partitions, each service's model) on its first client
and keeps them, so a client of another session (PynamoDB's, one per thread: livecommerce.shared.dynamo)
costs a few ms instead of parsing them again (docs/cold-start.md). The loader only reads botocore's
own files, which never change in a running process. Sessions are not safe to share between threads
while they create clients, so clients are made under the lock; the clients themselves are
thread-safe."""
from __future__ import annotations

import threading
from typing import Any, Callable

_clients: dict[str, Any] = {}
_session: list[Any] = []
_loader: list[Any] = []
_lock = threading.Lock()
_on_reset: list[Callable[[], None]] = []


def botocore_session() -> Any:
    """A new botocore session whose data loader is the process's one."""
    import botocore.session  # deferred: botocore costs ~100 ms to import; entry modules that load at init call it there

    session = botocore.session.Session()
    if not _loader:
        _loader.append(session.get_component("data_loader"))
    else:
        session.register_component("data_loader", _loader[0])
    return session


def _shared_session() -> Any:
    """The container's session for `client` (call with _lock held)."""
    if not _session:
        _session.append(botocore_session())
    return _session[0]


def client(service: str, **kwargs: Any) -> Any:
    """The container's client of `service`; keyword arguments (endpoint_url=...) make a client of their
    own, cached under the service and those arguments."""
    key = service if not kwargs else f"{service}@{sorted(kwargs.items())}"
    found = _clients.get(key)
    if found is None:
        with _lock:
            found = _clients.get(key)
            if found is None:
                found = _shared_session().create_client(service, **kwargs)
                _clients[key] = found
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

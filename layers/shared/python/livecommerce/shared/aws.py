"""AWS clients, created once per container and imported lazily so that entry
modules stay cheap to import (cold starts)."""
from __future__ import annotations

import threading
from typing import Any

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    found = _clients.get(service)
    if found is None:
        with _lock:
            found = _clients.get(service)
            if found is None:
                import boto3  # deferred: boto3 costs ~100 ms to import

                found = boto3.session.Session().client(service)
                _clients[service] = found
    return found


def reset_clients() -> None:
    """Tests swap endpoints (moto) between cases."""
    with _lock:
        _clients.clear()

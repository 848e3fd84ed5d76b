"""The embedded AWS: moto, made safe for concurrent callers.

moto's in-memory backends are not thread-safe (a transaction deep-copies
tables another thread is changing). Real DynamoDB executes each request
atomically, so we serialize requests to moto: our threads still interleave
between requests exactly as concurrent Lambdas do against AWS, and each
request sees the all-or-nothing behaviour the real service gives. That is what
the concurrency tests rely on.
"""
from __future__ import annotations

import threading
from typing import Any

_lock = threading.RLock()
_patched = False


def serialize_in_process_moto() -> None:
    """For tests using `mock_aws`: one botocore request at a time into moto."""
    global _patched
    if _patched:
        return
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def locked(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]
    _patched = True


class EmbeddedAwsServer:
    """moto's server on loopback with one request at a time (see module doc)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        self.host = host
        self.port = port
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                                   create_backend_app)
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)

        def serialized(environ: dict, start_response: Any) -> list[bytes]:
            with _lock:
                return list(app(environ, start_response))

        self._server = make_server(self.host, self.port, serialized, threaded=True,
                                   request_handler=MotoRequestHandler)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-aws", daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

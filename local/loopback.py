"""The HTTP server every loopback stand-in uses."""
from __future__ import annotations

from http.server import ThreadingHTTPServer


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A thread per connection, daemon threads, and a listen backlog of 128: with
    socketserver's default of 5, a burst of concurrent clients overflows the accept
    queue and the kernel drops their SYNs, which clients retry only a second later."""

    daemon_threads = True
    request_queue_size = 128

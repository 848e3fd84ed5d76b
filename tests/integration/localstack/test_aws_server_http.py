"""The embedded AWS's HTTP server (local.aws_server.AwsHttpServer) on its own, over a small WSGI app:
HTTP/1.1 keep-alive, `Expect: 100-continue`, chunked bodies handed on without a Content-Length, HEAD
answers keeping the app's Content-Length, a bad request line refused 400, an app's crash answered
500 with the connection going on, the stack's control paths; and group commit: every write is
answered only after an fdatasync that covers it, one fdatasync covering many concurrent writes."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from local.aws_priority import PriorityLock, Turns
from local.aws_server import AwsHttpServer

pytestmark = pytest.mark.integration


def _app(environ, start_response):
    if environ["PATH_INFO"] == "/crash":
        raise RuntimeError("boom")
    length = environ.get("CONTENT_LENGTH")
    body = environ["wsgi.input"].read(int(length)) if length else environ["wsgi.input"].read()
    answer = json.dumps({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
                         "query": environ["QUERY_STRING"], "body": body.decode(),
                         "has_length": "CONTENT_LENGTH" in environ,
                         "terminated": bool(environ.get("wsgi.input_terminated")),
                         "kind": environ.get("HTTP_X_LOCAL_PRIORITY", "")}).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", "4242" if environ["REQUEST_METHOD"] == "HEAD"
                                                       else str(len(answer)))]
    start_response("200 OK", headers)
    return [answer]


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")

    def response(self, *, head: bool = False) -> tuple[int, dict[str, str], bytes]:
        status = self.file.readline().decode()
        headers = {}
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", 0))
        body = b"" if head else self.file.read(length)
        return int(status.split()[1]), headers, body


@pytest.fixture()
def server():
    server = AwsHttpServer("127.0.0.1", 0, _app, turns=Turns(), lock=PriorityLock(), control={
        "/__control": lambda environ, body: ("202 Accepted", [("X-Seen", body.decode())], b"ok")})
    server.start()
    yield server
    server.stop()


def _connect(server) -> tuple[socket.socket, _Reader]:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return sock, _Reader(sock)


def test_keep_alive_continue_chunked_head_and_crashes_on_one_connection(server):
    sock, reader = _connect(server)
    with sock:
        sock.sendall(b"POST /one?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
        status, headers, body = reader.response()
        seen = json.loads(body)
        assert status == 200 and seen["body"] == "hello" and seen["query"] == "x=1" and seen["has_length"]

        sock.sendall(b"PUT /two HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        assert reader.file.readline() == b"HTTP/1.1 100 Continue\r\n"   # before the body is sent
        assert reader.file.readline() == b"\r\n"
        sock.sendall(b"abc")
        status, _, body = reader.response()
        assert status == 200 and json.loads(body)["body"] == "abc"

        sock.sendall(b"POST /three HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"4\r\nwiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n")
        status, _, body = reader.response()
        seen = json.loads(body)
        assert seen["body"] == "wikipedia" and seen["terminated"] and not seen["has_length"]

        sock.sendall(b"HEAD /four HTTP/1.1\r\nHost: h\r\n\r\n")
        status, headers, body = reader.response(head=True)
        assert status == 200 and headers["content-length"] == "4242"   # the app's, not the empty body's

        sock.sendall(b"GET /crash HTTP/1.1\r\nHost: h\r\n\r\n")
        status, _, body = reader.response()
        assert status == 500 and b"boom" in body

        sock.sendall(b"POST /__control HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi")
        status, headers, body = reader.response()
        assert (status, headers["x-seen"], body) == (202, "hi", b"ok")

        sock.sendall(b"GET /last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        status, headers, body = reader.response()
        assert status == 200 and headers["connection"] == "close"
        assert reader.file.read() == b""   # closed after it


def test_a_bad_request_line_is_refused_400_and_closed(server):
    sock, reader = _connect(server)
    with sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        status, headers, _ = reader.response()
        assert status == 400 and headers["connection"] == "close"
        assert reader.file.read() == b""


class _State:
    """A journal that records what each fdatasync covered (a slow disk: 30 ms a sync)."""

    def __init__(self) -> None:
        self.appended = 0
        self.synced = 0
        self.syncs = 0
        self.lock = threading.Lock()

    def append(self, environ, body):
        self.appended += 1
        return self

    def sync(self, journal) -> None:
        covers = self.appended
        time.sleep(0.03)
        with self.lock:
            self.syncs += 1
            self.synced = max(self.synced, covers)


def test_writes_are_answered_only_once_synced_and_one_sync_covers_many():
    state = _State()
    server = AwsHttpServer("127.0.0.1", 0, _app, turns=Turns(), lock=PriorityLock(), state=state,
                           journalled=lambda environ, body: environ["REQUEST_METHOD"] == "POST")
    server.start()
    answered: list[int] = []
    barrier = threading.Barrier(20)

    def write() -> None:
        sock, reader = _connect(server)
        with sock:
            barrier.wait()
            sock.sendall(b"POST /w HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx")
            status, _, _ = reader.response()
            with state.lock:
                answered.append(state.synced)   # what had been synced when this answer arrived
            assert status == 200

    try:
        threads = [threading.Thread(target=write) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(answered) == 20 and state.appended == 20
        assert min(answered) >= 1 and state.synced == 20
        assert state.syncs < 20   # group commit: writes that came during a sync share the next one
        sock, reader = _connect(server)
        with sock:   # reads are not journalled, so not held for a sync
            sock.sendall(b"GET /r HTTP/1.1\r\nHost: h\r\n\r\n")
            assert reader.response()[0] == 200
        assert state.appended == 20
    finally:
        server.stop()


def test_full_collections_run_once_the_api_is_quiet_not_during_its_calls():
    collected: list[float] = []
    server = AwsHttpServer("127.0.0.1", 0, _app, turns=Turns(), lock=PriorityLock(),
                           collect_garbage=lambda: collected.append(time.monotonic()), quiet_seconds=0.3,
                           collect_at_least_every=3600)
    server.start()
    try:
        sock, reader = _connect(server)
        with sock:
            sock.sendall(b"GET /background HTTP/1.1\r\nHost: h\r\n\r\n")   # not a client's call
            assert reader.response()[0] == 200
            time.sleep(0.8)
            assert collected == []      # nothing to collect after: no API call since the start
            last_call = 0.0
            began = time.monotonic()
            while time.monotonic() - began < 1.0:   # the API busy for a second, a call every 50 ms
                sock.sendall(b"GET /api HTTP/1.1\r\nHost: h\r\nX-Local-Priority: api\r\n\r\n")
                assert reader.response()[0] == 200
                last_call = time.monotonic()
                time.sleep(0.05)
            assert collected == []      # never while the API keeps calling
            deadline = time.monotonic() + 5
            while not collected and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(collected) == 1 and collected[0] - last_call >= 0.3   # once, after it went quiet
            time.sleep(1.0)
            assert len(collected) == 1  # not again until the API calls again
    finally:
        server.stop()

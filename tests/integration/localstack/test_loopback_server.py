"""local.loopback: the one HTTP server the stand-ins, the IoT publish API, the Lambda
Invoke API and the local API Gateway share, checked over real sockets."""
from __future__ import annotations

import http.client
import json

import pytest

from local.loopback import LoopbackServer, Reply, Request, Router


def _call(server: LoopbackServer, method: str, target: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_a_request_arrives_parsed_and_the_reply_goes_out_as_given():
    seen: list[Request] = []

    def handle(request: Request) -> Reply:
        seen.append(request)
        return Reply.json({"form": request.form(), "json": request.json() if request.method == "PUT" else None},
                          201, {"X-Extra": "1"})

    with LoopbackServer(handle, port=0) as server:
        assert server.port != 0 and server.url == f"http://127.0.0.1:{server.port}"
        status, headers, body = _call(server, "POST", "/a/b?x=1&y=&x=2", b"z=3&x=9",
                                      {"Content-Type": "application/x-www-form-urlencoded", "X-Mixed-Case": "v"})
        assert status == 201 and headers["x-extra"] == "1" and headers["content-type"] == "application/json"
        assert json.loads(body) == {"form": {"x": "9", "y": "", "z": "3"}, "json": None}
        request = seen[-1]
        assert (request.method, request.path, request.target) == ("POST", "/a/b", "/a/b?x=1&y=&x=2")
        assert request.query == {"x": "2", "y": ""}
        assert request.headers["x-mixed-case"] == "v" and request.raw_headers["X-Mixed-Case"] == "v"
        assert request.client == "127.0.0.1" and request.received > 0

        status, _, body = _call(server, "PUT", "/j", json.dumps([1, 2]).encode(), {"Content-Type": "application/json"})
        assert status == 201 and json.loads(body)["json"] == [1, 2]
    with pytest.raises(ValueError):
        Request("POST", "/", {}, b"[1]").json_object()


def test_not_found_failures_bodiless_statuses_and_head():
    def handle(request: Request) -> Reply | None:
        if request.path == "/boom":
            raise RuntimeError("bug")
        if request.path == "/empty":
            return Reply(204, b"ignored", {"X-Kept": "yes"})
        return None if request.path == "/nothing" else Reply.text("hello")

    with LoopbackServer(handle) as server:
        status, _, body = _call(server, "GET", "/nothing")
        assert status == 404 and json.loads(body) == {"error": "not found", "path": "/nothing"}
        status, _, body = _call(server, "GET", "/boom")
        assert status == 500 and json.loads(body) == {"error": "stand-in failure: RuntimeError: bug"}
        status, headers, body = _call(server, "GET", "/empty")
        assert status == 204 and body == b"" and "content-length" not in headers and headers["x-kept"] == "yes"
        status, headers, body = _call(server, "HEAD", "/text")
        assert status == 200 and body == b"" and headers["content-length"] == "5"


def test_router_methods_patterns_and_fallback():
    router = (Router(lambda request: Reply.text("fallback", 418))
              .add("POST", r"/items/([a-z]+)", lambda request, name: Reply.text(f"post {name}"))
              .add(("GET", "HEAD"), r"/items/([a-z]+)", lambda request, name: Reply.text(f"get {name}")))
    with LoopbackServer(router) as server:
        assert _call(server, "POST", "/items/abc")[2] == b"post abc"
        assert _call(server, "GET", "/items/abc")[2] == b"get abc"
        assert _call(server, "GET", "/items/ABC")[0] == 418
        assert _call(server, "DELETE", "/items/abc")[0] == 418


def test_methods_not_served_answer_501_and_bodies_over_the_limit_413_unread():
    with LoopbackServer(lambda request: Reply.text("ok"), methods=("POST",), max_body=10,
                        too_large=Reply.text("too big", 413)) as server:
        assert _call(server, "GET", "/")[0] == 501
        assert _call(server, "POST", "/", b"x" * 10)[0] == 200
        assert _call(server, "POST", "/", b"x" * 11)[:3:2] == (413, b"too big")


def test_keep_alive_reuses_a_connection_and_stop_closes_it():
    server = LoopbackServer(lambda request: Reply.text(request.path), keep_alive=True, timeout=None)
    server.start()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        for path in ("/one", "/two"):
            conn.request("GET", path)
            response = conn.getresponse()
            assert response.version == 11 and response.read() == path.encode()
        sock = conn.sock
        assert sock is not None            # still the same, open connection
        server.stop()
        assert sock.recv(1) == b""         # the server closed the kept-alive connection
    finally:
        conn.close()
        server.stop()


def test_only_loopback_addresses():
    with pytest.raises(ValueError):
        LoopbackServer(lambda request: None, host="0.0.0.0")

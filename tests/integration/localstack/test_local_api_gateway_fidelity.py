"""The local HTTP API (local.http_api on local.loopback) answers as the deployed
API Gateway (REST, regional) does for what the stdlib HTTP server would otherwise
answer itself: methods no route has (TRACE, CONNECT, HEAD on a GET route, made-up
ones), preflights on paths with no resource, request lines it cannot parse, and
paths with empty segments. Over real sockets.

What API Gateway does (evidence in local/http_api.py and local/gateway.py):
a method and path no resource/method matches is MISSING_AUTHENTICATION_TOKEN, our
gateway response (problem+json, code route_not_found); extra slashes between the
stage and the path are dropped for routing (`/local//v1/me` is `/v1/me`, with
requestContext.path keeping them), an empty segment inside the path matches no
resource (`/v1//me`)."""
from __future__ import annotations

import http.client
import json
import socket

import pytest

from livecommerce.shared.gateway_responses import GATEWAY_RESPONSES

pytestmark = pytest.mark.integration
NOT_FOUND_STATUS = GATEWAY_RESPONSES["MISSING_AUTHENTICATION_TOKEN"][0]


@pytest.fixture(scope="module")
def server():
    from local.http_api import LocalApiServer

    with LocalApiServer("127.0.0.1", 0) as found:
        yield found


def call(server, method: str, target: str, headers: dict[str, str] | None = None, body: bytes | None = None):
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def raw(server, data: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def route_not_found(answer) -> None:
    status, headers, body = answer
    assert status == NOT_FOUND_STATUS, (status, body)
    assert headers["content-type"] == "application/problem+json", headers
    problem = json.loads(body)
    assert problem["code"] == "route_not_found" and problem["status"] == NOT_FOUND_STATUS


@pytest.mark.parametrize("method", ["TRACE", "FOO", "PROPFIND"])
def test_a_method_no_route_has_gets_the_gateway_response_not_an_html_page(server, method):
    route_not_found(call(server, method, "/v1/me", {"Authorization": "Bearer x"}))
    route_not_found(call(server, method, "/v1/rooms"))


def test_connect_gets_the_gateway_response(server):
    status, headers, body = call(server, "CONNECT", "example.com:443")
    assert status == NOT_FOUND_STATUS and headers["content-type"] == "application/problem+json", body
    assert json.loads(body)["code"] == "route_not_found"


def test_head_on_a_get_route_is_not_a_route_and_has_no_body(server):
    # API Gateway does not answer HEAD with a GET method: HEAD is a method of its own.
    status, headers, body = call(server, "HEAD", "/v1/rooms")
    assert status == NOT_FOUND_STATUS and headers["content-type"] == "application/problem+json"
    assert body == b"" and int(headers["content-length"]) > 0


def test_a_preflight_is_answered_on_resources_only(server):
    status, headers, _ = call(server, "OPTIONS", "/v1/rooms", {"Origin": "http://localhost:5173",
                                                               "Access-Control-Request-Method": "POST"})
    assert status == 204 and "POST" in headers["access-control-allow-methods"]
    route_not_found(call(server, "OPTIONS", "/v1/no-such-thing"))
    route_not_found(call(server, "OPTIONS", "/v1//rooms"))


def test_a_malformed_request_line_gets_a_json_problem_not_an_html_page(server):
    answer = raw(server, b"GET /v1/rooms HTTP/1.1 extra\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"content-type: application/problem+json" in head.lower(), head
    assert json.loads(body)["status"] == 400

    answer = raw(server, b"GET /v1/rooms HTTP/2.7\r\nHost: x\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"application/problem+json" in head and json.loads(body)["status"] == 505


def test_an_empty_segment_inside_the_path_matches_no_resource(server):
    route_not_found(call(server, "GET", "/v1//me", {"Authorization": "Bearer x"}))
    route_not_found(call(server, "GET", "/v1//rooms"))


def test_leading_extra_slashes_route_as_api_gateway_does_and_keep_the_raw_path(server, aws_env, monkeypatch):
    """`//v1/rooms` is `/local//v1/rooms` on the deployed stage: API Gateway routes it to
    /v1/rooms, the event's `path` is `/v1/rooms` and requestContext.path keeps the slashes."""
    from local import gateway

    seen: list[dict] = []
    real = gateway.invoke

    def spy(function: str, event: dict, **options) -> dict:
        seen.append(event)
        return real(function, event, **options)

    monkeypatch.setattr(gateway, "invoke", spy)
    status, _, body = call(server, "GET", "//v1/rooms?limit=1")
    assert status == 200, body
    event = seen[-1]
    assert (event["resource"], event["path"]) == ("/v1/rooms", "/v1/rooms")
    assert event["requestContext"]["path"] == "/local//v1/rooms"
    assert event["queryStringParameters"] == {"limit": "1"}


def test_cors_headers_only_where_the_deployed_api_puts_them(server, aws_env):
    # A Lambda proxy answer carries the function's headers only (API Gateway adds no CORS
    # header to it); the gateway responses carry Access-Control-Allow-Origin (and 401 a
    # WWW-Authenticate challenge) as cdk/constructs/routed_api.py configures them.
    status, headers, body = call(server, "GET", "/v1/rooms", {"Origin": "http://localhost:5173"})
    assert status == 200, body
    assert "access-control-allow-origin" not in headers
    status, headers, _ = call(server, "GET", "/v1/nothing-here")
    assert status == NOT_FOUND_STATUS and headers["access-control-allow-origin"] == "*"
    status, headers, _ = call(server, "GET", "/v1/me")
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    assert headers["access-control-allow-origin"] == "*"

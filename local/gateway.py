"""API Gateway (REST, Lambda proxy) emulation for the local stack and tests.

Matches the route table the API stack is built from, runs the same token
authorizer function for "token" routes, builds the same proxy event and calls
the same function handler. Gateway-level failures use the same problem bodies
as the deployed gateway responses.
"""
from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import parse_qs

from livecommerce import manifest
from livecommerce.shared.spec import AUTHORIZER_CACHE_SECONDS, Route
from livecommerce.shared.gateway_responses import GATEWAY_RESPONSES, body_for
from livecommerce.shared.ttl_cache import TtlCache
from local.lambda_runtime import InvocationTimeout, invoke

API_ID = "localapi"
STAGE = "local"
MAX_GATEWAY_BODY = 10 * 1024 * 1024  # API Gateway's own payload limit
INTEGRATION_TIMEOUT_SECONDS = 29.0    # API Gateway's integration timeout (REST, Lambda proxy)


# API Gateway's own clock: the request's `$context.requestTimeEpoch`, which the beacon route's mapping
# template stamps as each beacon's received_at (and judges the client times against). Real time by
# default; the local stack points it at the scheduler's ShiftableClock (`use_clock`), so
# `POST <scheduler>/__local/clock` moves API Gateway's stamps and Scheduler's "now" together (as on
# AWS, where both read the same time). The functions' own clock does not move.
_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731


def use_clock(clock: Callable[[], datetime] | None) -> None:
    """The clock the gateway stamps requests with (None: real time again)."""
    global _clock
    _clock = clock or (lambda: datetime.now(timezone.utc))


def request_time_ms() -> int:
    """`$context.requestTimeEpoch`: epoch milliseconds on the gateway's clock."""
    return int(_clock().timestamp() * 1000)


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _gateway_error(response_type: str) -> GatewayResponse:
    status = GATEWAY_RESPONSES[response_type][0]
    # The headers the deployed gateway responses carry (cdk/constructs/routed_api.py
    # _add_gateway_responses; '*': the dev stage allows several origins).
    headers = {"Content-Type": "application/problem+json", "Access-Control-Allow-Origin": "*"}
    if response_type == "UNAUTHORIZED":
        headers["WWW-Authenticate"] = "Bearer"
    return GatewayResponse(status, headers, body_for(response_type))


def _method_arn(route: Route, path: str | None = None) -> str:
    """The method ARN API Gateway passes to an authorizer: the resource path, or with `path` the
    request's own path (what it names for a REQUEST authorizer, and what a policy is matched to)."""
    return f"arn:aws:execute-api:local:000000000000:{API_ID}/{STAGE}/{route.method}{path or route.path}"


def handle(method: str, raw_path: str, headers: dict[str, str] | None = None,
           body: bytes | str | None = None, source_ip: str = "127.0.0.1") -> GatewayResponse:
    headers = dict(headers or {})
    raw, _, query = raw_path.partition("?")
    # API Gateway drops extra slashes between the stage and the path when it routes: on AWS
    # `/stage//hardcoded` reaches the /hardcoded resource with event path "/hardcoded" and
    # requestContext.path "/stage//hardcoded" (LocalStack's AWS-validated snapshot,
    # localstack/localstack tests/aws/services/apigateway/test_apigateway_lambda.py::
    # test_lambda_aws_proxy_integration, "invocation-hardcoded"; issue #11253, PRs #11268,
    # #11304). An empty segment inside the path is no resource (`/v1//me` matches nothing:
    # MISSING_AUTHENTICATION_TOKEN), which manifest.match already answers.
    path = "/" + raw.lstrip("/") if raw.startswith("//") else raw
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body and len(body) > MAX_GATEWAY_BODY:
        return _gateway_error("REQUEST_TOO_LARGE")
    found = manifest.match(method.upper(), path)
    if found is None:
        return _gateway_error("MISSING_AUTHENTICATION_TOKEN")
    route, params = found
    request_id = str(uuid.uuid4())
    # One 29 s budget for the whole request, the authorizer's run included: the crowd
    # benchmark's promise is that no answer takes longer than API Gateway would wait.
    deadline = time.monotonic() + INTEGRATION_TIMEOUT_SECONDS
    authorizer_context: dict[str, Any] | None = None
    if route.integration is not None:
        return _service_integration(route, params, path, query, headers, body, request_id, deadline, source_ip)
    if route.auth == "token":
        lowered = {k.lower(): v for k, v in headers.items()}
        if not lowered.get("authorization"):
            return _gateway_error("UNAUTHORIZED")
        auth_event = {
            "type": "REQUEST", "methodArn": _method_arn(route), "resource": route.path, "path": path,
            "httpMethod": route.method, "headers": headers, "pathParameters": params,
            "queryStringParameters": _single(query), "requestContext": {"requestId": request_id},
        }
        try:
            result = _answers.get(lowered["authorization"], lambda: invoke(
                "authorizer", auth_event, timeout=max(0.0, deadline - time.monotonic()), kind="api"))
        except InvocationTimeout:
            return _gateway_error("INTEGRATION_TIMEOUT")
        except Exception:  # the authorizer's "Unauthorized" exception -> 401, as on AWS (not kept)
            return _gateway_error("UNAUTHORIZED")
        if not _allows(result, _method_arn(route)):
            return _gateway_error("ACCESS_DENIED")
        authorizer_context = {"principalId": result["principalId"], **(result.get("context") or {})}

    text_body: str | None
    is_base64 = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode(), True
    else:
        text_body = None
    event = {
        "resource": route.path, "path": path, "httpMethod": route.method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": _single(query), "multiValueQueryStringParameters": _multi(query),
        "pathParameters": params or None, "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path, "httpMethod": route.method, "path": f"/{STAGE}{raw}",
            "stage": STAGE, "requestId": request_id, "apiId": API_ID, "accountId": "000000000000",
            "requestTimeEpoch": request_time_ms(), "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            "authorizer": authorizer_context,
        },
        "body": text_body, "isBase64Encoded": is_base64,
    }
    try:
        # kind="api": a client waits (the worker pool serves it before background work)
        result = invoke(route.function, event, timeout=max(0.0, deadline - time.monotonic()), kind="api")
    except InvocationTimeout:  # API Gateway stops waiting after 29 s and answers 504
        logging.getLogger("local.gateway").error("function %s did not answer %s %s within %s s", route.function,
                                                 method, path, INTEGRATION_TIMEOUT_SECONDS)
        return _gateway_error("INTEGRATION_TIMEOUT")
    except Exception:  # a crashed function is a 502 from API Gateway (and a traceback in its log)
        logging.getLogger("local.gateway").exception("function %s crashed on %s %s", route.function, method, path)
        return _gateway_error("DEFAULT_5XX")
    out_headers = dict(result.get("headers") or {})
    for key, values in (result.get("multiValueHeaders") or {}).items():
        out_headers[key] = ", ".join(values)
    out_body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        out_body = base64.b64decode(out_body).decode("utf-8", "replace")
    return GatewayResponse(int(result.get("statusCode", 200)), out_headers, out_body)


def _service_integration(route: Route, params: dict[str, str], path: str, query: str, headers: dict[str, str],
                         body: bytes | None, request_id: str, deadline: float, source_ip: str) -> GatewayResponse:
    """A route API Gateway serves with an AWS service integration (no Lambda behind it): the
    route's own REQUEST authorizer (cached per identity sources), the request validator with the
    route's model, then the mapping templates and the service (local.beacon_integration)."""
    from local import beacon_integration  # deferred: jsonschema and the Velocity engine, beacon route only

    integration = route.integration
    lowered = {k.lower(): v for k, v in headers.items()}
    sources = ("authorization", *(h.lower() for h in integration.identity_headers))
    if any(not lowered.get(source) for source in sources):   # API Gateway: 401 without calling it
        return _gateway_error("UNAUTHORIZED")
    auth_event = {
        "type": "REQUEST", "methodArn": _method_arn(route, path), "resource": route.path, "path": path,
        "httpMethod": route.method, "headers": headers, "pathParameters": params,
        "queryStringParameters": _single(query), "requestContext": {"requestId": request_id},
    }
    cache = _integration_answers.setdefault(route.function, TtlCache(integration.authorizer_cache_seconds,
                                                                      max_entries=100_000))
    try:
        result = cache.get(tuple(lowered[s] for s in sources), lambda: invoke(
            route.function, auth_event, timeout=max(0.0, deadline - time.monotonic()), kind="api"))
    except InvocationTimeout:
        return _gateway_error("INTEGRATION_TIMEOUT")
    except Exception:  # the authorizer's "Unauthorized" exception -> 401, as on AWS (not kept)
        return _gateway_error("UNAUTHORIZED")
    if not _allows(result, _method_arn(route, path)):
        return _gateway_error("ACCESS_DENIED")
    media_type = lowered.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":   # only application/json is mapped (passthrough NEVER)
        return _gateway_error("UNSUPPORTED_MEDIA_TYPE")
    if body is None or not beacon_integration.valid_body(integration, body):
        return _gateway_error("BAD_REQUEST_BODY")
    answer = beacon_integration.serve(
        integration, body=body, params=params, request_id=request_id, request_time_ms=request_time_ms(),
        source_ip=source_ip, authorizer={"principalId": result["principalId"], **(result.get("context") or {})})
    return GatewayResponse(answer.status, answer.headers, answer.body)


# A service-integration route's authorizer answers, per authorizer function and identity sources.
_integration_answers: dict[str, TtlCache[tuple[str, ...], dict[str, Any]]] = {}


# API Gateway keeps a REQUEST authorizer's answer per identity source (the Authorization
# header) for the authorizer's results TTL (AUTHORIZER_CACHE_SECONDS, the value the
# API stack sets) and evaluates the cached policy against each method.
_answers: TtlCache[str, dict[str, Any]] = TtlCache(AUTHORIZER_CACHE_SECONDS, max_entries=10_000)


def clear_authorizer_cache() -> None:
    _answers.clear()
    _integration_answers.clear()


def _allows(result: dict[str, Any], method_arn: str) -> bool:
    import fnmatch

    for statement in (result.get("policyDocument") or {}).get("Statement", []):
        resources = statement.get("Resource")
        resources = [resources] if isinstance(resources, str) else resources or []
        if any(fnmatch.fnmatchcase(method_arn, r) for r in resources):
            return statement.get("Effect") == "Allow"
    return False


def _single(query: str) -> dict[str, str] | None:
    parsed = parse_qs(query, keep_blank_values=True)
    return {k: v[-1] for k, v in parsed.items()} or None


def _multi(query: str) -> dict[str, list[str]] | None:
    return parse_qs(query, keep_blank_values=True) or None

"""API conventions in one place: the Powertools resolver every HTTP function
uses, problem+json errors, body limits, caller identity, and the Lambda entry
wrapper that adds structured logs with a correlation id and EMF metrics
(traces: see livecommerce.shared.observability).

Every request body is checked before the resolver runs (`Api.precheck`: size, the
route's media type, strict UTF-8, bounded JSON; livecommerce.shared.bodies): a
malformed body is a 4xx logged at WARNING, never a handler's exception. The resolver
is handed the decoded text and the already-parsed JSON.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (RequestUnsupportedContentType,
                                                                    RequestValidationError)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared import bearer, bodies, clock, problems, tokens
from livecommerce.shared.observability import NAMESPACE, logger, metrics  # noqa: F401 (re-exported)
from livecommerce.shared.spec import Route, match_route

# OpenAPI security requirement for routes behind the token authorizer.
BEARER = [{"bearer": []}]
# A public route that reads a bearer when one is sent (Api.optional_caller): anonymous or bearer.
OPTIONAL_BEARER = [{}, {"bearer": []}]



@dataclass(frozen=True)
class Caller:
    user_id: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def is_operator(self) -> bool:
        return "operator" in self.roles

    @property
    def is_host(self) -> bool:
        return "host" in self.roles or self.is_operator


def caller_from_event(event: dict[str, Any]) -> Caller | None:
    """The identity the token authorizer put in the request context.

    API Gateway keeps the authorizer's answer for a token for AUTHORIZER_CACHE_SECONDS, so
    a token can come back through that cache after its end: its `token_expires_at` (epoch
    seconds; a string on AWS) is checked here against the platform clock, and a request at
    or after it is 401 token_expired."""
    ctx = ((event or {}).get("requestContext") or {}).get("authorizer") or {}
    user_id = ctx.get("user_id") or ctx.get("principalId")
    if not user_id:
        return None
    _check_token_expiry(ctx.get("token_expires_at"))
    roles = frozenset(r for r in str(ctx.get("roles", "")).split(",") if r)
    return Caller(user_id=str(user_id), roles=roles)


def _check_token_expiry(value: Any) -> None:
    if value is None or value == "":
        return        # a context without it was not made by our authorizer (a handler invoked directly)
    try:
        expires_at = float(value)
    except (TypeError, ValueError):
        expires_at = math.nan
    if not math.isfinite(expires_at):
        raise problems.Unauthorized("The token is invalid; log in again.", code="unauthorized")
    if clock.utcnow().timestamp() >= expires_at:
        raise problems.Unauthorized("The token has expired; log in again.", code="token_expired")


def problem_response(problem: problems.Problem, correlation_id: str | None = None) -> Response:
    body = problem.to_dict()
    if correlation_id:
        body["correlation_id"] = correlation_id
    headers = dict(problem.headers)
    return Response(status_code=problem.status, content_type=problems.PROBLEM_CONTENT_TYPE,
                    body=json.dumps(body, ensure_ascii=False), headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    fields = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        fields.append({
            "field": ".".join(loc),
            "message": err.get("msg", "invalid"),
            "type": err.get("type", "invalid"),
        })
    return fields


class ContainerResolver(APIGatewayRestResolver):
    """APIGatewayRestResolver that keeps the request being resolved on itself.

    Powertools stores it on the `BaseRouter` class (`BaseRouter.current_event`, `.lambda_context`),
    one slot per process. On Lambda a process serves one request at a time, so that is the same;
    but where several containers share one process (local.lambda_runtime's in-process threads, the
    tests' `api` fixture), a request resolving at the same time as another read the other's event:
    one viewer's request ran as another's. Here the event and context are this resolver's instance
    attributes (they shadow the class's), read by its routes, the routers it includes
    (`Router.api_resolver`), its validation and our `Api.caller()`; one resolver serves one request
    at a time (one per container)."""

    def resolve(self, event: Any, context: Any) -> dict[str, Any]:
        self.lambda_context = context
        return super().resolve(event, context)

    def _to_proxy_event(self, event: dict) -> Any:
        proxy = super()._to_proxy_event(event)
        self.current_event = proxy
        return proxy


class Api:
    """A resolver plus the current request's helpers, one per Lambda function."""

    def __init__(self, function: str, routes: tuple[Route, ...] = ()) -> None:
        """`routes`: the function's routes from the manifest (their body limits)."""
        self.function = function
        self.routes = tuple(routes)
        # The body the precheck passed for the request being served (one at a time per container).
        self._checked: bodies.CheckedBody | None = None
        # Route key -> how that route answers a refused body (a provider's own format), else problem+json.
        self._refusals: dict[str, Callable[[problems.Problem, str | None], dict[str, Any]]] = {}
        self.app = ContainerResolver(enable_validation=True, json_body_deserializer=self._json_body)
        self._install_handlers()

    # -- request helpers -------------------------------------------------
    @property
    def correlation_id(self) -> str | None:
        return ((self.app.current_event.raw_event.get("requestContext") or {}).get("requestId"))

    def caller(self) -> Caller:
        found = caller_from_event(self.app.current_event.raw_event)
        if found is None:
            raise problems.Unauthorized("A valid bearer token is required.", code="token_missing")
        return found

    def optional_caller(self) -> Caller | None:
        """The caller on a public route (no authorizer runs there): verify the token if one was sent."""
        found = caller_from_event(self.app.current_event.raw_event)
        if found is not None:
            return found
        headers = self.app.current_event.headers
        if not bearer.authorization(headers):
            return None
        token = bearer.bearer_token(headers)
        try:
            if token is None:
                raise tokens.TokenInvalid("malformed")
            claims = tokens.verify(token)
        except tokens.TokenInvalid:
            raise problems.Unauthorized("The token is invalid or expired; log in again.",
                                        code="unauthorized") from None
        return Caller(user_id=claims.user_id, roles=frozenset(claims.roles))

    def require(self, role: str) -> Caller:
        found = self.caller()
        if role == "operator" and not found.is_operator:
            raise problems.Forbidden("Only operators may do this.", code="operator_required")
        if role == "host" and not found.is_host:
            raise problems.Forbidden("Only hosts may do this.", code="host_required")
        return found

    # -- plumbing ----------------------------------------------------------
    def _install_handlers(self) -> None:
        app = self.app

        @app.exception_handler(problems.Problem)
        def _problem(exc: problems.Problem) -> Response:
            if exc.status >= 500:
                logger.warning("upstream problem", extra={"code": exc.code, "detail": exc.detail})
            metrics.add_metric(name="ClientErrors" if exc.status < 500 else "ServerErrors",
                               unit=MetricUnit.Count, value=1)
            return problem_response(exc, self.correlation_id)

        @app.exception_handler(bodies.BodyRejected)
        def _body_rejected(exc: bodies.BodyRejected) -> Response:
            # Only reached if something re-reads a body the precheck did not see.
            _log_refusal(exc.problem, self.app.current_event.raw_event)
            metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=1)
            return problem_response(exc.problem, self.correlation_id)

        @app.exception_handler(RequestUnsupportedContentType)
        def _unsupported(exc: RequestUnsupportedContentType) -> Response:
            problem = problems.UnsupportedMediaType("Send the body as application/json.")
            _log_refusal(problem, self.app.current_event.raw_event)
            metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=1)
            return problem_response(problem, self.correlation_id)

        @app.exception_handler(RequestValidationError)
        def _invalid(exc: RequestValidationError) -> Response:
            fields = _field_errors(exc)
            if any(f["type"] == "json_invalid" for f in fields):
                problem = problems.BadRequest("The body is not valid JSON.", code="malformed_json")
            else:
                problem = problems.ValidationFailed(
                    "; ".join(f"{f['field']}: {f['message']}" for f in fields), errors=fields)
            metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=1)
            return problem_response(problem, self.correlation_id)

        @app.not_found
        def _not_found(exc: NotFoundError) -> Response:
            return problem_response(problems.NotFound("No such route.", code="route_not_found"),
                                    self.correlation_id)

        @app.exception_handler(Exception)
        def _unexpected(exc: Exception) -> Response:
            # Logged with the stack trace; the client sees only the correlation id.
            logger.exception("unhandled error")
            metrics.add_metric(name="ServerErrors", unit=MetricUnit.Count, value=1)
            return problem_response(problems.Problem(
                "Something went wrong on our side; retry later.", code="internal_error",
                status=500, title="Internal error"), self.correlation_id)

    def precheck(self, event: dict[str, Any]) -> tuple[problems.Problem | None, dict[str, Any]]:
        """(problem, event) for a request refused before any parsing or validation, else (None,
        the event to resolve): size limit, then, for a method with a body, the route's media type,
        strict UTF-8 and bounded JSON (livecommerce.shared.bodies). The event to resolve carries
        the decoded text (not base64) and the route's canonical media type."""
        self._checked = None
        method = event.get("httpMethod", "")
        found = match_route(self.routes, method, event.get("path") or "")
        limit = found[0].max_body_bytes if found else 16 * 1024
        accepts = found[0].media_type if found else bodies.JSON
        body = event.get("body") or ""
        size = len(body.encode("utf-8", "surrogatepass")) if isinstance(body, str) else len(body)
        if event.get("isBase64Encoded"):
            size = size * 3 // 4
        if size > limit:
            return problems.PayloadTooLarge(f"The body may be at most {limit} bytes.", max_bytes=limit), event
        if not body or method not in ("POST", "PUT", "PATCH"):
            return None, event
        headers = event.get("headers") or {}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        try:
            checked = bodies.check(body, base64_encoded=bool(event.get("isBase64Encoded")),
                                   content_type=content_type, accepts=accepts)
        except bodies.BodyRejected as exc:
            return exc.problem, event
        self._checked = checked
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        headers["Content-Type"] = checked.media_type
        multi = {k: v for k, v in (event.get("multiValueHeaders") or {}).items() if k.lower() != "content-type"}
        multi["Content-Type"] = [checked.media_type]
        return None, {**event, "body": checked.text, "isBase64Encoded": False,
                      "headers": headers, "multiValueHeaders": multi}

    def _json_body(self, text: str) -> Any:
        """The resolver's JSON reader: the precheck's parse of this very text, else a strict parse."""
        checked = self._checked
        if checked is not None and checked.media_type == bodies.JSON and (checked.text is text
                                                                          or checked.text == text):
            return checked.value
        return bodies.parse_json(text)

    def answer_refusals(self, method: str, path: str,
                        answer: Callable[[problems.Problem, str | None], dict[str, Any]]) -> None:
        """Answer a refused body (too large, wrong media type, malformed) on this route with
        `answer(problem, request_id)` (a proxy response) instead of problem+json: a provider's
        notification route answers in the provider's own format."""
        self._refusals[f"{method} {path}"] = answer

    def refusal(self, problem: problems.Problem, event: dict[str, Any]) -> dict[str, Any]:
        request_id = (event.get("requestContext") or {}).get("requestId")
        found = match_route(self.routes, event.get("httpMethod", ""), event.get("path") or "")
        answer = self._refusals.get(found[0].key) if found else None
        if answer is not None:
            return answer(problem, request_id)
        body = problem.to_dict()
        body["correlation_id"] = request_id
        return {"statusCode": problem.status,
                "headers": {"Content-Type": problems.PROBLEM_CONTENT_TYPE, "X-Correlation-Id": request_id or ""},
                "body": json.dumps(body, ensure_ascii=False)}

    def include(self, router: Any) -> None:
        self.app.include_router(router)

    def handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        app = self.app
        function = self.function
        precheck, refusal = self.precheck, self.refusal
        metrics.set_default_dimensions(function=function)

        @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST,
                                      clear_state=True)
        @metrics.log_metrics
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            request_id = (event.get("requestContext") or {}).get("requestId")
            rejected, event = precheck(event)
            if rejected is not None:
                _log_refusal(rejected, event)
                metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=1)
                return refusal(rejected, event)
            response = app.resolve(event, context)
            if request_id:
                response.setdefault("headers", {})["X-Correlation-Id"] = request_id
            logger.info("request served", extra={
                "method": event.get("httpMethod"), "resource": event.get("resource"),
                "status": response.get("statusCode")})
            return response

        return handler


def _log_refusal(problem: problems.Problem, event: dict[str, Any]) -> None:
    """A refused body is the client's fault: a WARNING with the reason, never a traceback."""
    logger.warning("request body refused", extra={
        "reason": problem.code, "status": problem.status, "detail": problem.detail,
        "method": event.get("httpMethod"), "resource": event.get("resource") or event.get("path")})

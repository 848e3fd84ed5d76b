"""API conventions in one place: the Powertools resolver every HTTP function
uses, problem+json errors, body limits, caller identity, and the Lambda entry
wrapper that adds structured logs with a correlation id and EMF metrics
(traces: see livecommerce.shared.observability).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared import bearer, problems, tokens
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
    """The identity the token authorizer put in the request context."""
    ctx = ((event or {}).get("requestContext") or {}).get("authorizer") or {}
    user_id = ctx.get("user_id") or ctx.get("principalId")
    if not user_id:
        return None
    roles = frozenset(r for r in str(ctx.get("roles", "")).split(",") if r)
    return Caller(user_id=str(user_id), roles=roles)


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


class Api:
    """A resolver plus the current request's helpers, one per Lambda function."""

    def __init__(self, function: str, routes: tuple[Route, ...] = ()) -> None:
        """`routes`: the function's routes from the manifest (their body limits)."""
        self.function = function
        self.routes = tuple(routes)
        self.app = APIGatewayRestResolver(enable_validation=True)
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

    def precheck(self, event: dict[str, Any]) -> problems.Problem | None:
        """Body size and media type, checked before any parsing or validation."""
        method = event.get("httpMethod", "")
        found = match_route(self.routes, method, event.get("path") or "")
        limit = found[0].max_body_bytes if found else 16 * 1024
        body = event.get("body") or ""
        size = len(body.encode("utf-8")) if isinstance(body, str) else len(body)
        if event.get("isBase64Encoded"):
            size = size * 3 // 4
        if size > limit:
            return problems.PayloadTooLarge(f"The body may be at most {limit} bytes.", max_bytes=limit)
        if body and method in ("POST", "PUT", "PATCH"):
            headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
            content_type = headers.get("content-type", "")
            if content_type and "json" not in content_type.lower():
                return problems.UnsupportedMediaType("Send the body as application/json.")
        return None

    def include(self, router: Any) -> None:
        self.app.include_router(router)

    def handler(self) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
        app = self.app
        function = self.function
        precheck = self.precheck
        metrics.set_default_dimensions(function=function)

        @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST,
                                      clear_state=True)
        @metrics.log_metrics
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            request_id = (event.get("requestContext") or {}).get("requestId")
            rejected = precheck(event)
            if rejected is not None:
                metrics.add_metric(name="ClientErrors", unit=MetricUnit.Count, value=1)
                body = rejected.to_dict()
                body["correlation_id"] = request_id
                return {"statusCode": rejected.status,
                        "headers": {"Content-Type": problems.PROBLEM_CONTENT_TYPE,
                                    "X-Correlation-Id": request_id or ""},
                        "body": json.dumps(body, ensure_ascii=False)}
            response = app.resolve(event, context)
            if request_id:
                response.setdefault("headers", {})["X-Correlation-Id"] = request_id
            logger.info("request served", extra={
                "method": event.get("httpMethod"), "resource": event.get("resource"),
                "status": response.get("statusCode")})
            return response

        return handler

"""The OpenAPI 3.1 document of the whole public API, built from the same
Powertools routers the functions serve. Written to functions/docs/openapi.json
by `make openapi` (a test fails when that file is stale) and served from there
at /openapi.json and /docs. The routers and the route declarations come from the
composition root (livecommerce.http_routers): the platform imports no context.

Powertools documents each operation with 200 and its own 422 shape. The document
must say what the API really answers, so `truthful` rewrites every operation's
responses from facts the code already has, and nothing else can drift:

- success: the statuses the route function returns (`return body, 201`,
  `return body, 201 if created else 200`, or the decorator's `status_code`),
  read from its source; a route that builds its own `Response` declares them
  with the decorator's `responses=` (a route that does neither fails the writer);
- 400, 413, 415: a method with a body (the shared precheck: size limit from
  `Route.max_body_bytes`, JSON only, parseable);
- 401: the operation's security names the bearer (`Route.auth == "token"`, or a
  public route that reads an optional bearer);
- 403: `Route.who` is host or operator;
- 404: a path parameter, or a room-scoped route (`Route.room_from`: a test room
  is answered as nothing);
- 409: a write (conflicts with the current state, or a concurrent change won)
  or an `Idempotency-Key` header;
- 422: any parameter or body (validation, `errors[]` names the fields);
- 429: every operation (API Gateway stage throttling and the WAF rate rule,
  livecommerce.shared.gateway_responses THROTTLED);
- plus the route's own `Route.errors` (403 for banned viewers, 503 for a
  provider call, ...).

Every error is `application/problem+json` with one shared `Problem` schema.
"""
from __future__ import annotations

import ast
import inspect
import json
import textwrap
from typing import Any, Callable, Iterable

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from livecommerce.shared.api import Api
from livecommerce.shared.gateway_responses import GATEWAY_RESPONSES
from livecommerce.shared.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE
from livecommerce.shared.spec import Route

TITLE = "Live-commerce API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Backend of the live-shopping mini-program. Money is integer fen, times are ISO 8601 UTC, "
    "errors are application/problem+json (RFC 9457) with a stable `code`; validation errors (422) "
    "list the failing fields in `errors`. Authenticate with `Authorization: Bearer <token>` from "
    "`POST /v1/auth/login`. Every operation may answer 429 when the caller is over the rate limit."
)

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. Clients switch on `code`, never on `title` or `detail`.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": f"{PROBLEM_TYPE_BASE}<code>"},
        "title": {"type": "string", "description": "Short summary of the kind of problem."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "The HTTP status."},
        "detail": {"type": "string", "description": "What went wrong with this request, for people."},
        "code": {"type": "string", "pattern": "^[a-z0-9_]+$", "description": "Stable machine-readable code."},
        "correlation_id": {"type": ["string", "null"], "description": "Quote it when reporting a problem."},
        "errors": {
            "type": "array",
            "description": "422: one entry per failing field.",
            "items": {
                "type": "object",
                "required": ["field", "message", "type"],
                "properties": {
                    "field": {"type": "string", "description": "Where: `body.<field>`, `query.<name>`, ..."},
                    "message": {"type": "string"},
                    "type": {"type": "string", "description": "The kind of failure (`missing`, `value_error`, ...)."},
                },
            },
        },
    },
    # Some problems carry more members (max_bytes, retryable, allowed, ...), as RFC 9457 allows.
    "additionalProperties": True,
}

# Every paged list's `cursor` query parameter (livecommerce.shared.paging): one description, here.
CURSOR_DESCRIPTION = ("Opaque: the `cursor` of the previous page of this same list, as given to this caller. "
                      "Leave it out for the first page. Any other value (made up, edited, or taken from another "
                      "list or another caller's list) is 422 `invalid_cursor`.")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_THROTTLED = GATEWAY_RESPONSES["THROTTLED"][0]


def _security() -> dict[str, Any]:
    return {"bearer": HTTPBearer(bearerFormat="JWT", description="Token from POST /v1/auth/login")}


# ------------------------------------------------------------ success codes

def _literal_statuses(node: ast.AST) -> set[int] | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return {node.value}
    if isinstance(node, ast.IfExp):
        body, orelse = _literal_statuses(node.body), _literal_statuses(node.orelse)
        if body is not None and orelse is not None:
            return body | orelse
    return None


def _returns(fn: ast.AST) -> Iterable[ast.Return]:
    """The function's own return statements (not those of functions defined inside it)."""
    for child in ast.iter_child_nodes(fn):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(child, ast.Return):
            yield child
        yield from _returns(child)


def success_statuses(func: Callable[..., Any], default: int = 200) -> set[int] | None:
    """The success statuses a route function answers, read from its return statements:
    `return body` (the decorator's status_code), `return body, 201`, `return body, 201 if new else 200`.
    None when it builds a Response or computes the status: the route must declare them (`responses=`)."""
    source = textwrap.dedent(inspect.getsource(func))
    fn = ast.parse(source).body[0]
    statuses: set[int] = set()
    for ret in _returns(fn):
        value = ret.value
        if isinstance(value, ast.Tuple) and len(value.elts) == 2:
            found = _literal_statuses(value.elts[1])
            if found is None:
                return None
            statuses |= found
        elif isinstance(value, ast.Call) and getattr(value.func, "id", getattr(value.func, "attr", "")) in (
                "Response", "_json"):
            return None
        else:
            statuses.add(default)
    return statuses or {default}


# ------------------------------------------------------------ error codes

def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}}


def _has_bearer(operation: dict[str, Any]) -> bool:
    return any("bearer" in requirement for requirement in operation.get("security") or ())


def error_statuses(route: Route, operation: dict[str, Any]) -> dict[int, str]:
    """The error statuses of one operation, each with why, from the route's facts and its declaration."""
    params = operation.get("parameters") or []
    has_body = "requestBody" in operation
    found: dict[int, str] = {}
    if route.method in BODY_METHODS:
        found[400] = "The body is not JSON, not UTF-8, or nested too deep (`malformed_body`)."
        found[413] = f"The body is larger than {route.max_body_bytes} bytes (`payload_too_large`)."
        found[415] = "The body is not `application/json` (`unsupported_media_type`)."
    if _has_bearer(operation):
        found[401] = ("The bearer token is missing, invalid or expired, or its user is gone (`unauthorized`)."
                      if route.auth == "token" else
                      "A bearer token was sent but is invalid or expired (`unauthorized`); send none to call anonymously.")
    if route.who in ("host", "operator"):
        found[403] = f"The caller is not {'a host of this room or an operator' if route.who == 'host' else 'an operator'}."
    if any(p.get("in") == "path" for p in params) or getattr(route, "room_from", None) is not None:
        found[404] = "No such resource, or one the caller may not see (`not_found`)."
    if route.method in WRITE_METHODS or any(p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key"
                                            for p in params):
        found[409] = ("The resource's state does not allow this, or a concurrent change won "
                      "(`concurrent_update`: retry).")
    if params or has_body:
        found[422] = "The request did not validate (`validation_failed`); `errors` lists the failing fields."
    found[_THROTTLED] = "Too many requests: the rate limit, or a busy store (`too_many_requests`, `store_busy`)."
    for status in route.errors:
        found.setdefault(status, {
            400: "The request cannot be carried out as sent (see `code`).",
            403: "The caller may not do this here (see `code`).",
            404: "Something the request names does not exist (`not_found`).",
            409: "The resource's state does not allow this (see `code`).",
            502: "A provider answered with an error (see `code`).",
            503: "A provider is unavailable; retry later (`upstream_unavailable`).",
        }.get(status, "See `code`."))
    return found


# ------------------------------------------------------------ the document

def _powertools_routes(api: Api) -> dict[tuple[str, str], Any]:
    routes = [*api.app._static_routes, *api.app._dynamic_routes]
    return {(r.method, r.openapi_path): r for r in routes if r.include_in_schema}


def truthful(document: dict[str, Any], api: Api, routes: Iterable[Route]) -> dict[str, Any]:
    """Rewrite every operation's responses from the facts (see the module's docstring)."""
    declared = {(route.method, route.path): route for route in routes}
    served = _powertools_routes(api)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            key = (method.upper(), path)
            if key not in declared:
                raise LookupError(f"{method.upper()} {path} is served but not declared in any context's spec")
            route, handler = declared[key], served[key]
            generated = operation.get("responses") or {}
            success_body = generated.get(str(handler.status_code)) or generated.get("200") or {}
            explicit = {int(code) for code in (handler.responses or {})}
            statuses = success_statuses(handler.func, handler.status_code)
            if statuses is None:
                statuses = {code for code in explicit if code < 400}
                if not statuses:
                    raise LookupError(f"{method.upper()} {path} builds its own Response: declare its statuses "
                                      "with the decorator's responses=")
            responses: dict[str, Any] = {}
            for status in sorted(statuses):
                entry = dict(generated.get(str(status)) or success_body)
                entry["description"] = entry.get("description") or "Success"
                if status == 204:
                    entry.pop("content", None)
                responses[str(status)] = entry
            for status, why in error_statuses(route, operation).items():
                responses[str(status)] = _problem(why)
            # What the route declares itself (its own answer format, e.g. a payment provider's) is
            # added to the problem+json the platform answers with before the route runs (precheck,
            # gateway); a route's declared failure format (its 400) may come with any error status.
            own_failure = (generated.get("400") or {}).get("content", {}) if 400 in explicit else {}
            for code, entry in responses.items():
                if int(code) >= 400 and own_failure:
                    entry["content"] = {**entry.get("content", {}), **own_failure}
            for code in explicit:
                declared_entry = generated.get(str(code)) or {}
                if str(code) in responses and int(code) >= 400:
                    responses[str(code)] = {"description": " ".join(filter(None, (
                                                responses[str(code)].get("description"),
                                                declared_entry.get("description")))),
                                            "content": {**responses[str(code)].get("content", {}),
                                                        **declared_entry.get("content", {})}}
                else:
                    responses[str(code)] = declared_entry
            operation["responses"] = dict(sorted(responses.items()))
            for param in operation.get("parameters") or ():
                if param.get("in") == "query" and param.get("name") == "cursor":
                    param.setdefault("description", CURSOR_DESCRIPTION)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    # Powertools' own 422 shapes, no longer referenced once every 422 is a Problem.
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        rest = {**document, "components": {**document["components"],
                                           "schemas": {k: v for k, v in schemas.items() if k != name}}}
        if f'"#/components/schemas/{name}"' not in json.dumps(rest):
            schemas.pop(name, None)
    return document


# ------------------------------------------------------------ service integrations

def _resolve(reference: str) -> Any:
    """A "module:function" a ServiceIntegration names (the spec imports nothing; the writer does)."""
    import importlib  # deferred: only the document writer resolves integration references

    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


def integration_operation(route: Route) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The operation of a route API Gateway serves with a service integration (no Lambda, so no
    Powertools route describes it): the request from the integration's JSON Schema, the success
    status, and the errors the validator, the authorizer and the templates answer.
    Returns (schema name, request schema, operation)."""
    integration = route.integration
    assert integration is not None
    schema = {k: v for k, v in _resolve(integration.request_schema)().items() if k != "$schema"}
    name = "".join(p.title() for p in integration.request_schema.rpartition(":")[0].rsplit(".", 1)[-1].split("_"))
    name = f"{name}Request"
    parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in (part[1:-1] for part in route.path.split("/") if part.startswith("{"))]
    parameters += [{"name": h, "in": "header", "required": True, "schema": {"type": "string"},
                    "description": "Part of the authorizer's cache key (see the operation's description)."}
                   for h in integration.identity_headers]
    found = {
        401: "The bearer token or a required header is missing, or the token is invalid or expired (`unauthorized`).",
        403: "A cached authorizer answer for another room, or a header naming another room (`forbidden`).",
        404: "No such room, or a test room the caller may not see (`room_not_found`).",
        413: "The body is larger than API Gateway's 10 MB limit (`payload_too_large`); the model bounds a "
             "valid batch far below that.",
        415: "The body is not `application/json` (`unsupported_media_type`).",
        422: "The body is not JSON or does not match the request model (`validation_failed`), or the batch was "
             "refused by the rules (`beacon_rejected`); nothing of it is counted.",
        _THROTTLED: "Too many requests (`too_many_requests`).",
        503: "The delivery stream did not take the batch (`upstream_unavailable`): send it again.",
    }
    responses: dict[str, Any] = {str(integration.success_status): {
        "description": f"Accepted: API Gateway handed the batch to {integration.service} {integration.action}.",
        "content": {"application/json": {"schema": {
            "type": "object", "required": ["accepted"],
            "properties": {"accepted": {"type": "integer", "description": "How many were written."}}}}}}}
    for status in sorted({401, 404, 415, 422, _THROTTLED, *integration.errors}):
        responses[str(status)] = _problem(found.get(status, "See `code`."))
    operation = {
        "operationId": f"{route.function}_{route.method.lower()}_{route.path.strip('/').replace('/', '_')}"
        .replace("{", "").replace("}", ""),
        "summary": integration.summary or route.key,
        "description": (f"Served by API Gateway without a Lambda: an AWS service integration "
                        f"({integration.service} {integration.action}) behind the request validator and a REQUEST "
                        f"authorizer whose answer is cached per Authorization and "
                        f"{', '.join(integration.identity_headers) or 'nothing else'} for "
                        f"{integration.authorizer_cache_seconds} s."),
        "parameters": parameters,
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{name}"}}}},
        "responses": dict(sorted(responses.items())),
        "security": [{"bearer": []}],
    }
    return name, schema, operation


def add_integrations(document: dict[str, Any], routes: Iterable[Route]) -> dict[str, Any]:
    for route in routes:
        if route.integration is None:
            continue
        name, schema, operation = integration_operation(route)
        document.setdefault("paths", {}).setdefault(route.path, {})[route.method.lower()] = operation
        document.setdefault("components", {}).setdefault("schemas", {})[name] = schema
    return document


def schema_dict(api: Api, routes: Iterable[Route] = ()) -> dict[str, Any]:
    routes = tuple(routes)
    document = json.loads(api.app.get_openapi_json_schema(
        title=TITLE, version=VERSION, description=DESCRIPTION, servers=[Server(url="/")],
        security_schemes=_security()))
    return add_integrations(truthful(document, api, routes), routes)


def build_docs_api(router_builders: Iterable[Callable[[Api], Any]], routes: Iterable[Route] = ()) -> Api:
    """An Api with every router included (the composition root passes the builders and the route specs)."""
    routes = tuple(routes)
    api = Api("docs")
    for build in router_builders:
        api.include(build(api))
    api.app.enable_swagger(path="/docs", title=TITLE, version=VERSION, description=DESCRIPTION,
                           security_schemes=_security())

    @api.app.get("/openapi.json", include_in_schema=False)
    def openapi_json():
        return Response(status_code=200, content_type="application/json",
                        body=json.dumps(schema_dict(api, routes), ensure_ascii=False))

    return api


def render(router_builders: Iterable[Callable[[Api], Any]], routes: Iterable[Route]) -> str:
    routes = tuple(routes)
    document = schema_dict(build_docs_api(router_builders, routes), routes)
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"

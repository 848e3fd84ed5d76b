"""Bodies API Gateway itself returns (before or instead of our functions),
as problem+json like everything else. One table for the CDK gateway
responses and the local API server."""
from __future__ import annotations

import json

from livecommerce.shared.problems import PROBLEM_TYPE_BASE

# response type -> (status, code, title, detail)
GATEWAY_RESPONSES: dict[str, tuple[int, str, str, str]] = {
    "UNAUTHORIZED": (401, "unauthorized", "Authentication required",
                     "A valid, unexpired bearer token is required."),
    "ACCESS_DENIED": (403, "forbidden", "Not allowed", "The token does not allow this call."),
    "MISSING_AUTHENTICATION_TOKEN": (404, "route_not_found", "Not found", "No such route."),
    # Only routes with a request model (service integrations: the beacon route) get this answer;
    # API Gateway gives it for a body that is not JSON too.
    "BAD_REQUEST_BODY": (422, "validation_failed", "Request did not validate",
                         "The body is not JSON or does not match the route's request model."),
    "BAD_REQUEST_PARAMETERS": (400, "bad_request", "Bad request", "A required parameter is missing."),
    # Service-integration routes map application/json only (passthrough NEVER).
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type", "Body must be JSON",
                               "The body must be application/json."),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "Request body too large", "The body is too large."),
    "THROTTLED": (429, "too_many_requests", "Too many requests", "Slow down and retry."),
    "WAF_FILTERED": (403, "blocked", "Blocked", "The request was blocked."),
    "DEFAULT_4XX": (400, "bad_request", "Bad request", "The request was not accepted."),
    "DEFAULT_5XX": (502, "gateway_error", "Gateway error", "Retry later."),
    "INTEGRATION_TIMEOUT": (504, "gateway_timeout", "Gateway timeout",
                            "The integration did not answer within 29 s. Retry later."),
}


def body_for(response_type: str) -> str:
    status, code, title, detail = GATEWAY_RESPONSES[response_type]
    return json.dumps({"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status,
                       "detail": detail, "code": code})

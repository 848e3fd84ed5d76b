"""Errors as RFC 9457 problem details with stable codes.

Domain code raises these; the API layer turns them into
`application/problem+json`. Codes are part of the public contract: clients
switch on `code`, never on `title` or `detail`.
"""
from __future__ import annotations

from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://docs.livecommerce.dev/problems/"


class Problem(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str = "", *, code: str | None = None, status: int | None = None,
                 title: str | None = None, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or (title or self.title)
        if code:
            self.code = code
        if status:
            self.status = status
        if title:
            self.title = title
        self.headers = headers or {}
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        body.update(self.extra)
        return body


class BadRequest(Problem):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthorized(Problem):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(Problem):
    status, code, title = 404, "not_found", "Not found"


class Conflict(Problem):
    status, code, title = 409, "conflict", "Conflict"


class PayloadTooLarge(Problem):
    status, code, title = 413, "payload_too_large", "Request body too large"


class UnsupportedMediaType(Problem):
    status, code, title = 415, "unsupported_media_type", "Body must be JSON"


class ValidationFailed(Problem):
    status, code, title = 422, "validation_failed", "Request did not validate"


class TooManyRequests(Problem):
    status, code, title = 429, "too_many_requests", "Too many requests"


class UpstreamUnavailable(Problem):
    status, code, title = 503, "upstream_unavailable", "A provider is unavailable, retry later"


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return Problem(detail, code=code, status=status, title=title, **extra).to_dict()

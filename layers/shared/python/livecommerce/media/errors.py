"""IVS failures as problem details with stable codes.

Every IVS call in this package goes through `translate()`, so callers (API
handlers, workflows, event consumers) only ever see `livecommerce.shared.problems`
types. The codes are part of the public contract:

| IVS error (or transport failure)                         | status | code                        | retryable |
|----------------------------------------------------------|--------|-----------------------------|-----------|
| ThrottlingException, InternalServerException,            | 503    | media_unavailable           | yes       |
| StreamUnavailable, any other 5xx, connect/read timeouts   |        |                             |           |
| ServiceQuotaExceededException                             | 503    | media_quota_exceeded        | no        |
| PendingVerification (account not yet verified by AWS)     | 503    | media_account_pending       | no        |
| AccessDeniedException (our IAM policy is wrong)           | 502    | media_misconfigured         | no        |
| ValidationException (we sent something IVS rejects)       | 502    | media_request_rejected      | no        |
| ResourceNotFoundException                                 | 404    | channel_not_found (or the   | no        |
|                                                           |        | code the call site names:   |           |
|                                                           |        | stream_key_not_found; 502   |           |
|                                                           |        | recording_configuration_    |           |
|                                                           |        | not_found on CreateChannel) |           |
| ConflictException (e.g. deleting a live channel)          | 409    | channel_busy                | yes       |
| ChannelNotBroadcasting (IVS sends it as an HTTP 404)      | 409    | channel_not_broadcasting    | no        |
| any other client error                                    | 502    | media_error                 | no        |

`retryable` is also written into the problem body (an RFC 9457 extension
member), as the rest of the API does; 503s carry a ``Retry-After`` header.
The IVS error code goes into ``upstream_code`` for support; the IVS message
does not (it can quote ARNs).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from livecommerce.shared import problems


class MediaUnavailable(problems.UpstreamUnavailable):
    status, code, title = 503, "media_unavailable", "The video service is unavailable, retry later"


class MediaQuotaExceeded(problems.UpstreamUnavailable):
    status, code, title = 503, "media_quota_exceeded", "The video service quota is used up"


class MediaAccountPending(problems.UpstreamUnavailable):
    status, code, title = 503, "media_account_pending", "The video service account is pending verification"


class MediaMisconfigured(problems.Problem):
    status, code, title = 502, "media_misconfigured", "The video service refused our credentials"


class MediaRequestRejected(problems.Problem):
    status, code, title = 502, "media_request_rejected", "The video service rejected the request"


class MediaError(problems.Problem):
    status, code, title = 502, "media_error", "The video service failed"


class ChannelNotFound(problems.NotFound):
    status, code, title = 404, "channel_not_found", "Video channel not found"


class RecordingConfigurationNotFound(MediaMisconfigured):
    """CreateChannel's ResourceNotFoundException: the configured recording
    configuration ARN does not exist (our settings, not the client's input)."""

    status, code, title = 502, "recording_configuration_not_found", "The recording configuration does not exist"


class StreamKeyNotFound(problems.NotFound):
    status, code, title = 404, "stream_key_not_found", "Stream key not found"


class ChannelBusy(problems.Conflict):
    status, code, title = 409, "channel_busy", "The video channel is busy (live or changing)"


class ChannelNotBroadcasting(problems.Conflict):
    status, code, title = 409, "channel_not_broadcasting", "The video channel is not live"


class StreamKeyRotationFailed(problems.UpstreamUnavailable):
    """The old key is revoked but no new key could be issued; rotating again
    (or reading the key, which issues one when missing) completes it."""

    status, code, title = 503, "stream_key_rotation_incomplete", "The new stream key could not be issued yet"


RETRY_AFTER_SECONDS = "2"

_RETRYABLE_CODES = frozenset({
    "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
    "InternalServerException", "InternalServerError", "ServiceUnavailable", "ServiceUnavailableException",
    "StreamUnavailable",
})


def error_code(exc: BaseException) -> str | None:
    """The IVS error code of a botocore ClientError (None for anything else)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    return (response.get("Error") or {}).get("Code") or None


def _http_status(exc: BaseException) -> int:
    response = getattr(exc, "response", None) or {}
    try:
        return int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    except (TypeError, ValueError):
        return 0


def _is_transport_failure(exc: BaseException) -> bool:
    """Connection refused, DNS, TLS, timeouts: the endpoint did not answer."""
    try:
        from botocore import exceptions as bex  # deferred: botocore (cold start); only an IVS failure pays
    except ImportError:  # pragma: no cover - botocore is always there with boto3
        return False
    return isinstance(exc, (bex.EndpointConnectionError, bex.ConnectionError, bex.HTTPClientError,
                            bex.ConnectTimeoutError, bex.ReadTimeoutError))


def is_retryable(exc: BaseException) -> bool:
    if _is_transport_failure(exc):
        return True
    code = error_code(exc)
    return code in _RETRYABLE_CODES or (code is not None and _http_status(exc) >= 500)


def to_problem(exc: BaseException, *, action: str,
               not_found: type[problems.Problem] = ChannelNotFound) -> problems.Problem | None:
    """The problem for an IVS failure, or None when `exc` is not an IVS/botocore failure.

    `action` is a short human phrase ("create the channel") used in `detail`.
    """
    if isinstance(exc, problems.Problem):
        return exc
    if _is_transport_failure(exc):
        return MediaUnavailable(f"Could not reach the video service to {action}; retry.",
                                headers={"Retry-After": RETRY_AFTER_SECONDS}, retryable=True,
                                upstream_code="connection_failed")
    code = error_code(exc)
    if code is None:
        return None
    extra = {"upstream_code": code}
    if code == "ResourceNotFoundException":
        return not_found(f"The video service has no such resource (while trying to {action}).",
                         retryable=False, **extra)
    if code == "ChannelNotBroadcasting":
        return ChannelNotBroadcasting(f"The channel is not live, so could not {action}.", retryable=False, **extra)
    if code == "ConflictException":
        return ChannelBusy(f"The channel is busy (live or being changed); could not {action}. "
                           "Stop the stream, wait for it to end, and retry.", retryable=True, **extra)
    if code == "ServiceQuotaExceededException":
        return MediaQuotaExceeded(f"A video service quota is used up; could not {action}.",
                                  retryable=False, **extra)
    if code == "PendingVerification":
        return MediaAccountPending(f"The video service account is pending verification; could not {action}.",
                                   retryable=False, **extra)
    if code in ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"):
        return MediaMisconfigured(f"The video service refused our credentials; could not {action}.",
                                  retryable=False, **extra)
    if code == "ValidationException":
        return MediaRequestRejected(f"The video service rejected the request to {action}.",
                                    retryable=False, **extra)
    if is_retryable(exc):
        return MediaUnavailable(f"The video service is busy or failing; could not {action}. Retry shortly.",
                                headers={"Retry-After": RETRY_AFTER_SECONDS}, retryable=True, **extra)
    return MediaError(f"The video service failed to {action}.", retryable=False, **extra)


@contextmanager
def translate(action: str, *, not_found: type[problems.Problem] = ChannelNotFound) -> Iterator[None]:
    """Run IVS calls; re-raise botocore failures as problems (chained, so logs keep the cause)."""
    try:
        yield
    except problems.Problem:
        raise
    except Exception as exc:
        problem = to_problem(exc, action=action, not_found=not_found)
        if problem is None:
            raise
        raise problem from exc

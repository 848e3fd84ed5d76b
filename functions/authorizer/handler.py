"""API Gateway REQUEST authorizer: verifies our login token.

Allows the whole API for a valid token (so API Gateway can cache the result
across routes) and passes the user id and roles to the handlers, which check
roles themselves. Anything wrong with the token is a 401, never a 500.

A valid signature is not enough: the token's user must still exist
(identity.user_exists, one consistent GetItem). There is no per-container cache
of that answer: API Gateway already keeps this function's Allow for one token
for AUTHORIZER_CACHE_SECONDS, so the lookup runs about once per token per five
minutes, and a cache here would only stretch how long a removed user's other
tokens keep working. The cached Allow carries `token_expires_at`, which the
handlers check (livecommerce.shared.api.caller_from_event), so a token still
ends at its `exp` while its answer is cached.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.shared import tokens
from livecommerce.shared.bearer import bearer_token
from livecommerce.shared.observability import NAMESPACE

logger = Logger(service="authorizer")
metrics = Metrics(namespace=NAMESPACE, service="authorizer")


def _api_wide_arn(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> .../stage/*/*
    head, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0] if rest else "*"
    return f"{head}/{stage}/*/*"


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    token = bearer_token(event.get("headers"))
    if token is None:
        metrics.add_metric(name="TokenRejected", unit=MetricUnit.Count, value=1)
        logger.info("token rejected", extra={"reason": "missing"})
        raise Exception("Unauthorized")  # API Gateway's contract for a 401
    try:
        claims = tokens.verify(token)
    except tokens.TokenInvalid as exc:
        metrics.add_metric(name="TokenRejected", unit=MetricUnit.Count, value=1)
        logger.info("token rejected", extra={"reason": exc.reason})
        raise Exception("Unauthorized") from None
    from livecommerce import identity  # deferred: its face builds pydantic models (~0.3 s); a bad token never pays it

    if not identity.user_exists(claims.user_id):
        metrics.add_metric(name="TokenRejected", unit=MetricUnit.Count, value=1)
        logger.info("token rejected", extra={"reason": "unknown_user"})
        raise Exception("Unauthorized")
    metrics.add_metric(name="TokenAccepted", unit=MetricUnit.Count, value=1)
    return {
        "principalId": claims.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow",
                           "Resource": _api_wide_arn(event.get("methodArn", ""))}],
        },
        "context": {"user_id": claims.user_id, "roles": ",".join(claims.roles),
                    "token_expires_at": claims.expires_at},
    }

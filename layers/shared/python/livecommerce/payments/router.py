"""Payments routes, and the payments function's entry wrapper.

The notify routes answer in the provider's format (WeChat Pay: JSON
{"code": "SUCCESS"|"FAIL"}; Alipay: the text "success"), not problem+json:
the provider reads them. Alipay posts its notification as
application/x-www-form-urlencoded, which the shared precheck (JSON only)
would refuse with 415, so `lambda_handler` applies the size limit to that route
and the full precheck to every other.
"""
from __future__ import annotations

import json
from typing import Annotated, Any, Callable

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.payments.models import PaymentParams, PaymentRequest
from livecommerce.shared import problems
from livecommerce.shared.api import BEARER, Api, logger, metrics

OrderId = Annotated[str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="Order id (ULID).")]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=100,
                                       pattern=r"^[A-Za-z0-9_.:\-]+$",
                                       description="The same value on every retry of this request.")]
ALIPAY_NOTIFY = "/v1/payments/alipay/notify"
MAX_NOTIFY_BYTES = 16 * 1024


def _service():
    from livecommerce.payments import service  # deferred: pynamodb/botocore/wechatpayv3 (entry module cold start)

    return service


def _aws_errors() -> tuple:
    """botocore's errors; called only when something was raised (an except clause is evaluated then),
    which keeps botocore out of the entry module's import."""
    from botocore.exceptions import BotoCoreError, ClientError  # deferred: botocore, only once something raised

    return (BotoCoreError, ClientError)


# What the notify routes answer, in the provider's format (the OpenAPI writer reads these:
# the routes build their own Response). Non-2xx: the provider retries later.
_WECHAT_BODY = {"application/json": {"schema": {
    "type": "object", "required": ["code"],
    "properties": {"code": {"type": "string", "enum": ["SUCCESS", "FAIL"]}, "message": {"type": "string"}}}}}
_ALIPAY_BODY = {"text/plain": {"schema": {"type": "string", "description": "`success`, or the plain failure"}}}
WECHAT_ANSWERS = {200: {"description": "Accepted (SUCCESS)", "content": _WECHAT_BODY},
                  400: {"description": "Refused: bad signature, unknown payment, ... (FAIL)", "content": _WECHAT_BODY},
                  503: {"description": "Not processed now; WeChat Pay retries (FAIL)", "content": _WECHAT_BODY}}
ALIPAY_ANSWERS = {200: {"description": "Accepted (success)", "content": _ALIPAY_BODY},
                  400: {"description": "Refused: bad signature, unknown payment, ...", "content": _ALIPAY_BODY},
                  413: {"description": "The notification is too large", "content": _ALIPAY_BODY},
                  503: {"description": "Not processed now; Alipay retries", "content": _ALIPAY_BODY}}


def _json(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type="application/json",
                    body=json.dumps(body, ensure_ascii=False))


def build_router(api: Api) -> Router:
    router = Router()

    @router.post("/v1/orders/<order_id>/payments", tags=["payments"], security=BEARER,
                 summary="Parameters for the mini-program's pay call (wx.requestPayment / my.tradePay)")
    def create_payment(order_id: OrderId, body: PaymentRequest, idempotency_key: IdempotencyKey) -> PaymentParams:
        return _service().create_payment(api.caller(), order_id, body, idempotency_key)

    @router.post("/v1/payments/wechat/notify", tags=["payments"], responses=WECHAT_ANSWERS,
                 summary="WeChat Pay v3 notification (signed, AES-256-GCM resource); answers SUCCESS or FAIL")
    def wechat_notify():
        event = api.app.current_event
        try:
            status, body = _service().wechat_notification(dict(event.headers or {}), event.body or "")
        except problems.Problem as exc:   # busy store: WeChat Pay retries on anything but 2xx
            return _json(exc.status if exc.status >= 400 else 503, {"code": "FAIL", "message": exc.code})
        except _aws_errors():              # the keys could not be read: retry later
            logger.exception("payment credentials unavailable")
            return _json(503, {"code": "FAIL", "message": "unavailable"})
        metrics.add_metric(name="PaymentNotifications" if status == 200 else "PaymentNotificationsRejected",
                           unit=MetricUnit.Count, value=1)
        return _json(status, body)

    @router.post(ALIPAY_NOTIFY, tags=["payments"], responses=ALIPAY_ANSWERS,
                 summary="Alipay asynchronous notification (RSA2-signed form); answers success or failure")
    def alipay_notify():
        event = api.app.current_event
        try:
            status, text = _service().alipay_notification(event.decoded_body or "")
        except problems.Problem as exc:
            status, text = (exc.status if exc.status >= 400 else 503), "failure"
        except _aws_errors():
            logger.exception("payment credentials unavailable")
            status, text = 503, "failure"
        metrics.add_metric(name="PaymentNotifications" if status == 200 else "PaymentNotificationsRejected",
                           unit=MetricUnit.Count, value=1)
        return Response(status_code=status, content_type="text/plain; charset=utf-8", body=text)

    return router


def lambda_handler(api: Api) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Api.handler(), except that the Alipay notification may be a form (the metrics' function
    dimension is set by api.handler())."""
    standard = api.handler()
    app = api.app

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
    @metrics.log_metrics
    def alipay(event: dict[str, Any], context: Any) -> dict[str, Any]:
        request_id = (event.get("requestContext") or {}).get("requestId")
        body = event.get("body") or ""
        if len(body.encode("utf-8") if isinstance(body, str) else body) > MAX_NOTIFY_BYTES:
            return {"statusCode": 413, "headers": {"Content-Type": "text/plain"}, "body": "failure"}
        response = app.resolve(event, context)
        if request_id:
            response.setdefault("headers", {})["X-Correlation-Id"] = request_id
        return response

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("httpMethod") == "POST" and (event.get("resource") == ALIPAY_NOTIFY
                                                  or (event.get("path") or "").rstrip("/") == ALIPAY_NOTIFY):
            return alipay(event, context)
        return standard(event, context)

    return handler

"""Payments routes, and the payments function's entry wrapper.

The notify routes answer in the provider's format (WeChat Pay: JSON
{"code": "SUCCESS"|"FAIL"}; Alipay: the text "success"), not problem+json:
the provider reads them. A refused notification gets the provider's plain
failure only (models.WECHAT_FAIL / models.ALIPAY_FAIL), whatever the reason:
the reason (unknown_serial, bad_signature_or_ciphertext, malformed_body, ...) is
logged at WARNING in the field `reason`, never answered. That includes bodies the
shared precheck refuses (too large, wrong media type, not UTF-8, malformed JSON):
`lambda_handler` has those answered in the provider's format too. Alipay posts a
form (the route's media type in payments/spec.py).
"""
from __future__ import annotations

import json
from typing import Annotated, Any, Callable

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.metrics import MetricUnit

from livecommerce.payments.models import ALIPAY_FAIL, WECHAT_FAIL, PaymentParams, PaymentRequest, ReconciliationReport
from livecommerce.shared import problems
from livecommerce.shared.api import BEARER, Api, logger, metrics

OrderId = Annotated[str, Path(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$", description="Order id (ULID).")]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=100,
                                       pattern=r"^[A-Za-z0-9_.:\-]+$",
                                       description="The same value on every retry of this request.")]
BillDay = Annotated[str, Path(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                             description="The bill day, yyyy-mm-dd, Beijing time (the providers' bill day). A day "
                                         "after today is 422 `date_in_future`; a date that does not exist 422 "
                                         "`invalid_date`; a run needs a day before today (422 `day_not_over`).")]
ALIPAY_NOTIFY = "/v1/payments/alipay/notify"
WECHAT_NOTIFY = "/v1/payments/wechat/notify"
ALIPAY_REFUND_NOTIFY = "/v1/payments/alipay/refund-notify"
WECHAT_REFUND_NOTIFY = "/v1/payments/wechat/refund-notify"


def _service():
    from livecommerce.payments import service  # deferred: pynamodb/botocore/wechatpayv3 (entry module cold start)

    return service


def _refunds():
    from livecommerce.payments import refunds  # deferred: pynamodb/botocore/wechatpayv3 (entry module cold start)

    return refunds


def _reconciliation():
    from livecommerce.payments import reconciliation  # deferred: pynamodb/botocore/provider SDKs (cold start)

    return reconciliation


def _bill_day(value: str, *, over: bool) -> str:
    """The day, checked: a real date, not after today (Beijing); `over`: before today (its bills exist)."""
    from datetime import date  # deferred: only the reconciliation routes need it

    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise problems.ValidationFailed(f"{value} is not a date (yyyy-mm-dd).", code="invalid_date",
                                        errors=[{"field": "path.date", "message": "not a date",
                                                 "type": "invalid_date"}]) from None
    today = _reconciliation().beijing_today()
    if day > today:
        raise problems.ValidationFailed(f"{value} is after today ({today.isoformat()}, Beijing time).",
                                        code="date_in_future")
    if over and day == today:
        raise problems.ValidationFailed("Today is not over: the providers publish its bills tomorrow.",
                                        code="day_not_over")
    return day.isoformat()


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


def _text(status: int, text: str) -> Response:
    return Response(status_code=status, content_type="text/plain; charset=utf-8", body=text)


def _notification(what: str, metric: str, fail: Any, handle: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    """A provider notification's (status, answer): the provider retries on anything but 2xx, so a
    busy store or unreadable keys answer its plain failure with a 5xx; the reason goes to the log
    only (the answer reveals nothing)."""
    try:
        status, answer = handle()
    except problems.Problem as exc:
        logger.warning(f"{what} not processed", extra={"reason": exc.code})
        status, answer = (exc.status if exc.status >= 400 else 503), fail
    except _aws_errors():
        logger.exception(f"{what} not processed", extra={"reason": "aws_unavailable"})
        status, answer = 503, fail
    metrics.add_metric(name=metric if status == 200 else f"{metric}Rejected", unit=MetricUnit.Count, value=1)
    return status, answer


def build_router(api: Api) -> Router:
    router = Router()

    @router.post("/v1/orders/<order_id>/payments", tags=["payments"], security=BEARER,
                 summary="Parameters for the mini-program's pay call (wx.requestPayment / my.tradePay)")
    def create_payment(order_id: OrderId, body: PaymentRequest, idempotency_key: IdempotencyKey) -> PaymentParams:
        return _service().create_payment(api.caller(), order_id, body, idempotency_key)

    @router.post(WECHAT_NOTIFY, tags=["payments"], responses=WECHAT_ANSWERS,
                 summary="WeChat Pay v3 notification (signed, AES-256-GCM resource); answers SUCCESS or FAIL")
    def wechat_notify():
        event = api.app.current_event
        status, body = _notification("wechat pay notification", "PaymentNotifications", WECHAT_FAIL,
                                     lambda: _service().wechat_notification(dict(event.headers or {}),
                                                                            event.body or ""))
        return _json(status, body)

    @router.post(ALIPAY_NOTIFY, tags=["payments"], responses=ALIPAY_ANSWERS,
                 summary="Alipay asynchronous notification (RSA2-signed form); answers success or failure")
    def alipay_notify():
        event = api.app.current_event
        status, text = _notification("alipay notification", "PaymentNotifications", ALIPAY_FAIL,
                                     lambda: _service().alipay_notification(event.decoded_body or ""))
        return _text(status, text)

    @router.post(WECHAT_REFUND_NOTIFY, tags=["payments"], responses=WECHAT_ANSWERS,
                 summary="WeChat Pay v3 refund notification (signed, AES-256-GCM resource); answers SUCCESS or FAIL")
    def wechat_refund_notify():
        event = api.app.current_event
        status, body = _notification("wechat pay refund notification", "RefundNotifications", WECHAT_FAIL,
                                     lambda: _refunds().wechat_refund_notification(dict(event.headers or {}),
                                                                                   event.body or ""))
        return _json(status, body)

    @router.post(ALIPAY_REFUND_NOTIFY, tags=["payments"], responses=ALIPAY_ANSWERS,
                 summary="Alipay refund notification (RSA2-signed form with out_biz_no, refund_fee); "
                         "answers success or failure")
    def alipay_refund_notify():
        event = api.app.current_event
        status, text = _notification("alipay refund notification", "RefundNotifications", ALIPAY_FAIL,
                                     lambda: _refunds().alipay_refund_notification(event.decoded_body or ""))
        return _text(status, text)

    @router.get("/v1/reconciliation/<date>", tags=["reconciliation"], security=BEARER,
                summary="The day's reconciliation: each provider's bill against our payments and refunds "
                        "(404 reconciliation_not_run before the day was run)")
    def reconciliation_report(date: BillDay) -> ReconciliationReport:
        api.require("operator")
        day = _bill_day(date, over=False)
        report = _reconciliation().get(day)
        if report is None:
            raise problems.NotFound(f"{day} has not been reconciled yet (it runs daily at 10:30 Beijing time for "
                                    "the day before; POST /v1/reconciliation/{date}/runs runs it now).",
                                    code="reconciliation_not_run")
        return report

    @router.post("/v1/reconciliation/<date>/runs", tags=["reconciliation"], security=BEARER,
                 summary="Run the day's reconciliation again now; the new report replaces the day's report")
    def run_reconciliation(date: BillDay) -> ReconciliationReport:
        api.require("operator")
        day = _bill_day(date, over=True)
        try:
            return _reconciliation().run(day, trigger="operator")
        except _aws_errors():
            logger.exception("reconciliation run failed", extra={"day": day})
            raise problems.UpstreamUnavailable("The stores could not be read; retry.", code="store_unavailable") \
                from None

    return router


def _wechat_refusal(problem: problems.Problem, request_id: str | None) -> dict[str, Any]:
    return {"statusCode": problem.status, "headers": {"Content-Type": "application/json",
                                                      "X-Correlation-Id": request_id or ""},
            "body": json.dumps(WECHAT_FAIL, ensure_ascii=False)}


def _alipay_refusal(problem: problems.Problem, request_id: str | None) -> dict[str, Any]:
    return {"statusCode": problem.status, "headers": {"Content-Type": "text/plain; charset=utf-8",
                                                      "X-Correlation-Id": request_id or ""},
            "body": ALIPAY_FAIL}


def lambda_handler(api: Api) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Api.handler(), with bodies the precheck refuses on the notify routes answered in the
    provider's plain failure format (the precheck has logged the reason)."""
    api.answer_refusals("POST", WECHAT_NOTIFY, _wechat_refusal)
    api.answer_refusals("POST", ALIPAY_NOTIFY, _alipay_refusal)
    api.answer_refusals("POST", WECHAT_REFUND_NOTIFY, _wechat_refusal)
    api.answer_refusals("POST", ALIPAY_REFUND_NOTIFY, _alipay_refusal)
    return api.handler()

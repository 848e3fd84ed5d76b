"""Payments: start a payment with a provider, and apply its verified notifications.

Nothing in a notification is trusted before it verifies (WeChat: platform key
serial, timestamp within 5 minutes, RSA signature over
"timestamp\\nnonce\\nbody\\n", AES-256-GCM resource; Alipay: RSA2). Applying is
orders' (its face, `orders.apply_payment`): at most once per provider transaction (a
record kept 72 h), the amount must equal the order's, and money that an
order cannot take (wrong amount, paid twice, order closed) is recorded and
announced for refund (OrderRefundRequired), never silently dropped.
"""
from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

from livecommerce import identity, orders
from livecommerce.orders import PayableOrder, PaymentAttempt
from livecommerce.payments import alipay_adapter, wechatpay_adapter
from livecommerce.payments import credentials as creds
from livecommerce.payments.alipay_adapter import BEIJING
from livecommerce.payments.errors import NotificationRejected, ProviderError
from livecommerce.payments.models import (ALIPAY_FAIL, WECHAT_FAIL, AlipayParams, PaymentParams, PaymentRequest,
                                         WeChatPayParams)
from livecommerce.shared import idempotency, ports, problems
from livecommerce.shared.api import Caller
from livecommerce.shared.idempotency import Effect
from livecommerce.shared.tx import Tx
from livecommerce.shared.clock import iso, now_iso, utcnow
from livecommerce.shared.observability import logger

REUSE_MARGIN_SECONDS = 30
WECHAT_NOTIFY_PATH = "/v1/payments/wechat/notify"
ALIPAY_NOTIFY_PATH = "/v1/payments/alipay/notify"
WECHATPAY, ALIPAY = "wechatpay", "alipay"       # the outbound providers (ports.provider)

# The provider adapters, through the ports (tests put fakes in with ports.use(providers=...)).
ports.register_provider(WECHATPAY, lambda: wechatpay_adapter)
ports.register_provider(ALIPAY, lambda: alipay_adapter)


def get_commerce_settings():
    return orders.commerce_settings()


def _notify_url(path: str) -> str:
    base = get_commerce_settings().payment_notify_base
    if not base:
        raise problems.UpstreamUnavailable("Payments are not configured on this stage (PAYMENT_NOTIFY_BASE).",
                                           code="payments_unavailable")
    return base + path


def _payer(caller: Caller, channel: str, given: str | None) -> str:
    """Who pays: sent by the client, or known from the login; dev users on the local stage get a stand-in id."""
    if given:
        return given
    subject = identity.payer_subject(caller.user_id, "wechat" if channel == "wechat" else "alipay")
    if subject:
        return str(subject)
    if get_commerce_settings().is_local:
        digest = hashlib.sha256(caller.user_id.encode()).hexdigest()
        return f"o-dev-{digest[:22]}" if channel == "wechat" else "2088" + str(int(digest[:15], 16))[-12:].zfill(12)
    field = "payer_openid" if channel == "wechat" else "buyer_id"
    raise problems.ValidationFailed(f"{field}: required for this account.", code="payer_required", errors=[
        {"field": f"body.{field}", "message": "required", "type": "missing"}])


def _description(order: PayableOrder) -> str:
    names = order.line_names
    text = names[0] + (f" 等{len(names)}件" if len(names) > 1 else "")
    return text[:120]


def create_payment(caller: Caller, order_id: str, body: PaymentRequest, key: str) -> PaymentParams:
    fp = idempotency.fingerprint({"order_id": order_id, "channel": body.channel})
    return idempotency.commit_once("payment", caller.user_id, key, fp,
                                   build_tx=lambda: _payment_effect(caller, order_id, body),
                                   replay=lambda record: PaymentParams(**record.response))


def _payment_effect(caller: Caller, order_id: str, body: PaymentRequest) -> Effect[PaymentParams]:
    """The prepay (reused while valid) and its answer; the transaction holds only the key's record."""
    order = orders.payable_order(caller, order_id)
    settings = get_commerce_settings()
    existing = orders.payment_attempt(order_id, body.channel)
    now = utcnow()
    if existing is not None and int(existing.amount) == int(order.total) \
            and datetime.fromisoformat(existing.valid_until.replace("Z", "+00:00")) \
            > now + timedelta(seconds=REUSE_MARGIN_SECONDS):
        params = existing.params    # the same prepay: paying twice for one order is impossible
    else:
        params = _prepay(caller, order, body, settings)
    result = PaymentParams(order_id=order_id, channel=body.channel, amount=int(order.total), pay_by=order.pay_by,
                           wechat=WeChatPayParams(**params) if body.channel == "wechat" else None,
                           alipay=AlipayParams(**params) if body.channel == "alipay" else None)
    return Effect(Tx(), result, response=result.model_dump(mode="json"))


def _prepay(caller: Caller, order: PayableOrder, body: PaymentRequest, settings) -> dict:
    from botocore.exceptions import BotoCoreError, ClientError  # deferred: botocore only on a prepay

    try:
        configured = creds.credentials()
    except (BotoCoreError, ClientError) as exc:
        logger.exception("payment credentials unavailable")
        raise problems.UpstreamUnavailable("Payments are unavailable right now; retry.", code="payments_unavailable",
                                           headers={"Retry-After": "2"}) from exc
    pay_by = datetime.fromtimestamp(int(order.pay_by_epoch), timezone.utc)
    try:
        if body.channel == "wechat":
            if configured.wechatpay is None:
                raise problems.UpstreamUnavailable("WeChat Pay is not available.", code="channel_unavailable")
            ref, params = ports.get().provider(WECHATPAY).jsapi_prepay(
                configured.wechatpay, order_id=order.order_id, description=_description(order),
                amount=int(order.total), openid=_payer(caller, "wechat", body.payer_openid),
                time_expire=pay_by.isoformat(), notify_url=_notify_url(WECHAT_NOTIFY_PATH),
                api_base=settings.wechatpay_api_base, timeout=settings.provider_timeout_seconds)
        else:
            if configured.alipay is None:
                raise problems.UpstreamUnavailable("Alipay is not available.", code="channel_unavailable")
            ref = ports.get().provider(ALIPAY).trade_create(
                configured.alipay, order_id=order.order_id, subject=_description(order), amount=int(order.total),
                buyer=_payer(caller, "alipay", body.buyer_id), time_expire=pay_by,
                notify_url=_notify_url(ALIPAY_NOTIFY_PATH), gateway=settings.alipay_pay_gateway,
                timeout=settings.provider_timeout_seconds)
            params = {"tradeNO": ref}
    except ProviderError as exc:
        logger.warning("payment provider refused", extra={"provider": exc.provider, "provider_code": exc.code,
                                                          "retryable": exc.retryable,
                                                          "misconfigured": exc.misconfigured})
        if exc.already_paid:
            raise problems.Conflict("The order is already paid; the confirmation is on its way.",
                                    code="order_already_paid") from exc
        if exc.retryable:
            raise problems.UpstreamUnavailable(f"{exc.provider} is busy; retry.", code="payment_provider_unavailable",
                                               headers={"Retry-After": "2"}, provider=exc.provider,
                                               provider_code=exc.code) from exc
        if exc.misconfigured:
            logger.error("payment provider misconfigured", extra={"provider": exc.provider, "provider_code": exc.code})
        raise problems.Problem(f"{exc.provider} did not accept the payment.", code="payment_provider_error",
                               status=502, title="Payment unavailable", provider=exc.provider,
                               provider_code=exc.code) from exc
    orders.record_payment_attempt(PaymentAttempt(order_id=order.order_id, channel=body.channel,
                                                 amount=int(order.total), provider_ref=ref, params=params,
                                                 valid_until=order.pay_by))
    return params


# -- notifications ----------------------------------------------------------------------

def wechat_notification(headers: dict[str, str], body: str) -> tuple[int, dict]:
    """(HTTP status, JSON body) as WeChat Pay expects: 200 {"code": "SUCCESS"} or 4xx/5xx WECHAT_FAIL."""
    settings = get_commerce_settings()
    cfg = creds.credentials().wechatpay
    if cfg is None:   # nothing can verify it, so nothing is trusted (WeChat Pay retries any non-2xx)
        logger.error("wechat pay notification but wechat pay is not configured", extra={"reason": "not_configured"})
        return 400, dict(WECHAT_FAIL)
    try:
        note = ports.get().provider(WECHATPAY).verify_notification(
            cfg, headers, body, now=time.time(), max_age_seconds=settings.wechat_notification_max_age_seconds,
            api_base=settings.wechatpay_api_base, timeout=settings.provider_timeout_seconds)
    except NotificationRejected as exc:
        logger.warning("wechat pay notification rejected", extra={"reason": exc.reason})
        return 400, dict(WECHAT_FAIL)
    resource = note["resource"]
    if note.get("event_type") != "TRANSACTION.SUCCESS" or resource.get("trade_state") != "SUCCESS":
        logger.info("wechat pay notification ignored", extra={"event_type": note.get("event_type"),
                                                             "trade_state": resource.get("trade_state")})
        return 200, {"code": "SUCCESS", "message": "ignored"}
    try:
        amount = int((resource.get("amount") or {}).get("total"))
        order_id = str(resource["out_trade_no"])
        transaction_id = str(resource["transaction_id"])
    except (KeyError, TypeError, ValueError):
        logger.error("verified wechat pay notification without amount or ids", extra={"reason": "malformed_resource"})
        return 400, dict(WECHAT_FAIL)
    outcome = orders.apply_payment(channel="wechat", order_id=order_id, transaction_id=transaction_id,
                                   amount=amount, paid_at=_iso_or_now(resource.get("success_time")))
    logger.info("wechat pay notification applied", extra={"order_id": order_id, "outcome": outcome})
    return 200, {"code": "SUCCESS", "message": outcome}


def alipay_notification(body: str) -> tuple[int, str]:
    """(HTTP status, text) as Alipay expects: "success" stops its retries, anything else is a failure."""
    settings = get_commerce_settings()
    cfg = creds.credentials().alipay
    if cfg is None:
        logger.error("alipay notification but alipay is not configured", extra={"reason": "not_configured"})
        return 400, ALIPAY_FAIL
    try:
        params = dict(parse_qsl(body or "", keep_blank_values=True, strict_parsing=False, errors="strict"))
    except ValueError:   # %-escapes that are not UTF-8 (the API's precheck refuses them first)
        logger.warning("alipay notification rejected", extra={"reason": "malformed_body"})
        return 400, ALIPAY_FAIL
    if params.get("out_biz_no") and params.get("refund_fee"):
        # Alipay sends a refund's result to the payment's notify_url: out_biz_no is our out_request_no.
        from livecommerce.payments import refunds  # deferred: only for a refund notification

        return refunds.alipay_refund_notification(body)
    try:
        note = ports.get().provider(ALIPAY).verify_notification(cfg, params, now=utcnow(),
                                                  max_age_seconds=settings.alipay_notification_max_age_seconds)
    except NotificationRejected as exc:
        logger.warning("alipay notification rejected", extra={"reason": exc.reason})
        return 400, ALIPAY_FAIL
    except ValueError:   # an SDK's parse error: not trusted, and not our 500
        logger.warning("alipay notification rejected", extra={"reason": "unreadable"})
        return 400, ALIPAY_FAIL
    if note["trade_status"] not in ("TRADE_SUCCESS", "TRADE_FINISHED"):
        logger.info("alipay notification ignored", extra={"trade_status": note["trade_status"]})
        return 200, "success"
    amount = orders.fen_from_yuan_text(note["total_amount"])
    outcome = orders.apply_payment(channel="alipay", order_id=note["out_trade_no"], transaction_id=note["trade_no"],
                                   amount=-1 if amount is None else amount,
                                   paid_at=_beijing_to_iso(note.get("gmt_payment")))
    logger.info("alipay notification applied", extra={"order_id": note["out_trade_no"], "outcome": outcome})
    return 200, "success"


def _iso_or_now(value: str | None) -> str:
    try:
        return iso(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return now_iso()


def _beijing_to_iso(value: str | None) -> str:
    try:
        return iso(datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING))
    except ValueError:
        return now_iso()

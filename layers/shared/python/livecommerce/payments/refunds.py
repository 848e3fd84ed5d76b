"""Refunds: asked for by orders' events, made once at the provider, their results applied once.

1. A cause (AfterSaleRefundApproved, OrderRefundRequired) becomes a refund record whose id is
   derived from it (refund_rules), written in one transaction with the transaction's refunded
   sum (optimistic on that sum): never more than was paid. A second delivery finds the record.
2. The refund is submitted with that id as out_refund_no / out_request_no: the provider answers
   a repeated id with the same refund, so a crash after its call and before our write, then a
   retry, cannot refund twice.
3. A result (the provider's answer, a verified refund notification, a query) moves the record
   once, conditionally on the state it was read in, with RefundSucceeded / RefundFailed in the
   outbox; a failed refund gives its amount back to the transaction's refundable sum.
4. Every minute, refunds still open after a minute are asked about at the provider (and
   submitted again under the same id if the provider has none: the call was lost).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from livecommerce import orders
from livecommerce.payments import credentials as creds
from livecommerce.payments import refund_rules as rules
from livecommerce.payments import alipay_adapter, repository, wechatpay_adapter
from livecommerce.payments.alipay_adapter import BEIJING
from livecommerce.payments.errors import NotificationRejected, ProviderError
from livecommerce.payments.events import RefundFailed, RefundSucceeded
from livecommerce.payments.models import ALIPAY_FAIL, WECHAT_FAIL, RefundRecord
from livecommerce.payments.storage import RefundItem, TransactionItem, bind_all
from livecommerce.shared import ports, problems
from livecommerce.shared.clock import iso, now_iso, utcnow
from livecommerce.shared.observability import logger
from livecommerce.shared.tx import Tx, TxCancelled

WECHATPAY, ALIPAY = "wechatpay", "alipay"
WECHAT_REFUND_NOTIFY_PATH = "/v1/payments/wechat/refund-notify"
ALIPAY_REFUND_NOTIFY_PATH = "/v1/payments/alipay/refund-notify"
MAX_ATTEMPTS = 5
POLL_AFTER_SECONDS = 60

# The provider adapters, through the ports (tests put fakes in with ports.use(providers=...)).
ports.register_provider(WECHATPAY, lambda: wechatpay_adapter)
ports.register_provider(ALIPAY, lambda: alipay_adapter)
WECHAT_REFUND_EVENTS = {"REFUND.SUCCESS": rules.SUCCEEDED, "REFUND.ABNORMAL": rules.FAILED,
                        "REFUND.CLOSED": rules.FAILED}


@dataclass(frozen=True)
class RefundAsk:
    refund_id: str
    order_id: str
    user_id: str
    channel: str
    transaction_id: str
    amount: int
    paid: int
    cause: str
    after_sale_id: str | None = None


def record_of(item: RefundItem) -> RefundRecord:
    return RefundRecord(refund_id=item.refund_id, order_id=item.order_id, user_id=item.user_id,
                        channel=item.channel, transaction_id=item.transaction_id, amount=int(item.amount),
                        cause=item.cause, after_sale_id=item.after_sale_id, state=item.state,
                        provider_refund_id=item.provider_refund_id, provider_code=item.provider_code,
                        created_at=item.created_at, submitted_at=item.submitted_at, refunded_at=item.refunded_at,
                        updated_at=item.updated_at)


def _settings():
    return orders.commerce_settings()


# -- asking --------------------------------------------------------------------------------

def refund(ask: RefundAsk) -> RefundItem:
    """Refund once: the record (or the one a earlier delivery made), then the provider call while open."""
    item = repository.get_refund(ask.refund_id) or _record(ask)
    if item.state in rules.OPEN_STATES:
        item = submit(item)
    return item


def _record(ask: RefundAsk) -> RefundItem:
    bind_all()
    for _ in range(MAX_ATTEMPTS):
        txn = repository.get_transaction(ask.channel, ask.transaction_id)
        paid = int(txn.paid) if txn is not None else int(ask.paid)
        refunded = int(txn.refunded) if txn is not None else 0
        now = now_iso()
        ok = rules.refundable(paid, refunded, int(ask.amount))
        item = RefundItem(*RefundItem.key(ask.refund_id), refund_id=ask.refund_id, order_id=ask.order_id,
                          user_id=ask.user_id, channel=ask.channel, transaction_id=ask.transaction_id,
                          amount=int(ask.amount), paid=paid, cause=ask.cause, after_sale_id=ask.after_sale_id,
                          state=rules.REQUESTED if ok else rules.FAILED, created_at=now, updated_at=now,
                          gsi1pk=repository.day_key(now), gsi1sk=f"{now}#{ask.refund_id}")
        tx = Tx()
        if ok:
            item.gsi2pk, item.gsi2sk = repository.open_key(ask.refund_id), f"{now}#{ask.refund_id}"
            if txn is None:
                tx.put("txn", TransactionItem(*TransactionItem.key(ask.channel, ask.transaction_id),
                                              order_id=ask.order_id, channel=ask.channel,
                                              transaction_id=ask.transaction_id, paid=paid, refunded=ask.amount,
                                              updated_at=now), TransactionItem.pk.does_not_exist())
            else:
                tx.update("txn", TransactionItem(*TransactionItem.key(ask.channel, ask.transaction_id)),
                          [TransactionItem.refunded.set(refunded + int(ask.amount)),
                           TransactionItem.updated_at.set(now)], TransactionItem.refunded == refunded)
        else:
            item.provider_code = rules.OVER_REFUND
            item.message = f"{ask.amount} fen would exceed the {paid - refunded} fen left of {paid} paid"
            logger.error("refund refused: more than was paid", extra={
                "refund_id": ask.refund_id, "order_id": ask.order_id, "amount": ask.amount, "paid": paid,
                "refunded": refunded})
            for event in repository.outbox_items(item.pk, [_failed_event(item)]):
                tx.put("outbox", event)
        tx.put("refund", item, RefundItem.pk.does_not_exist())
        try:
            tx.commit()
        except TxCancelled as exc:
            if "refund" in exc:                    # another delivery recorded it first
                found = repository.get_refund(ask.refund_id)
                if found is not None:
                    return found
            continue                               # the transaction's refunded sum moved: decide again
        repository.flush_outbox(item.pk)
        return item
    raise problems.Conflict("The refund is changing; retry.", code="concurrent_update", retryable=True)


# -- the provider ----------------------------------------------------------------------------

def submit(item: RefundItem) -> RefundItem:
    """Ask the provider to refund (the same id again is the same refund), and apply its answer."""
    settings = _settings()
    configured = creds.credentials()
    _count_attempt(item)
    try:
        if item.channel == "wechat":
            if configured.wechatpay is None:
                raise ProviderError("wechat", "not_configured", "WeChat Pay is not configured", misconfigured=True)
            doc = ports.get().provider(WECHATPAY).refund(
                configured.wechatpay, out_refund_no=item.refund_id, transaction_id=item.transaction_id,
                amount=int(item.amount), total=int(item.paid), reason=_reason_text(item),
                notify_url=_notify_url(WECHAT_REFUND_NOTIFY_PATH), api_base=settings.wechatpay_api_base,
                timeout=settings.provider_timeout_seconds)
            return _apply_wechat(item, doc)
        if configured.alipay is None:
            raise ProviderError("alipay", "not_configured", "Alipay is not configured", misconfigured=True)
        node = ports.get().provider(ALIPAY).refund(
            configured.alipay, out_trade_no=item.order_id, trade_no=item.transaction_id,
            out_request_no=item.refund_id, amount=int(item.amount), reason=_reason_text(item),
            gateway=settings.alipay_pay_gateway, timeout=settings.provider_timeout_seconds)
        state = rules.alipay_refund_answer_state(node.get("fund_change"))
        return apply_result(item.refund_id, state, provider_refund_id=node.get("trade_no"),
                            refunded_at=_beijing_to_iso(node.get("gmt_refund_pay")) if state == rules.SUCCEEDED
                            else None) or _current(item)
    except ProviderError as exc:
        final = exc.code in (rules.WECHAT_FINAL_REFUSALS if item.channel == "wechat" else rules.ALIPAY_FINAL_REFUSALS)
        logger.warning("refund not made", extra={"refund_id": item.refund_id, "provider": exc.provider,
                                                  "provider_code": exc.code, "retryable": exc.retryable,
                                                  "final": final})
        if final:
            return apply_result(item.refund_id, rules.FAILED, provider_code=exc.code, message=exc.message) or _current(item)
        return item          # open: the minute poll asks again (same id: never twice)


def _apply_wechat(item: RefundItem, doc: dict) -> RefundItem:
    state = rules.wechat_state(str(doc.get("status") or doc.get("refund_status") or ""))
    if state is None:
        return item
    return apply_result(item.refund_id, state, provider_refund_id=doc.get("refund_id"),
                        refunded_at=_iso_or_none(doc.get("success_time")),
                        provider_code=None if state != rules.FAILED else str(doc.get("status")),
                        message=None if state != rules.FAILED else "refund closed or abnormal at WeChat Pay") or _current(item)


def _current(item: RefundItem) -> RefundItem:
    """The refund as stored now (a result that arrived first, e.g. a notification, moved it)."""
    return repository.get_refund(item.refund_id) or item


def _count_attempt(item: RefundItem) -> None:
    now = now_iso()
    try:
        item.update(actions=[RefundItem.attempts.add(1), RefundItem.submitted_at.set(now)])
    except Exception:  # noqa: BLE001 - a counter; the refund goes on without it
        logger.warning("refund attempt not counted", extra={"refund_id": item.refund_id})


def _reason_text(item: RefundItem) -> str:
    return "售后退款" if item.cause == rules.AFTER_SALE else "订单无法接收的付款，原路退回"


def _notify_url(path: str) -> str:
    base = _settings().payment_notify_base
    if not base:
        raise ProviderError("payments", "not_configured", "PAYMENT_NOTIFY_BASE is not set", misconfigured=True)
    return base + path


# -- results ----------------------------------------------------------------------------------

def _succeeded_event(item: RefundItem, refunded_at: str) -> RefundSucceeded:
    return RefundSucceeded(refund_id=item.refund_id, order_id=item.order_id, user_id=item.user_id,
                           channel=item.channel, transaction_id=item.transaction_id, amount=int(item.amount),
                           cause=item.cause, after_sale_id=item.after_sale_id, refunded_at=refunded_at)


def _failed_event(item: RefundItem) -> RefundFailed:
    return RefundFailed(refund_id=item.refund_id, order_id=item.order_id, user_id=item.user_id, channel=item.channel,
                        amount=int(item.amount), cause=item.cause, after_sale_id=item.after_sale_id,
                        provider_code=str(item.provider_code or "unknown"), message=str(item.message or ""))


def apply_result(refund_id: str, to: str, *, provider_refund_id: str | None = None, refunded_at: str | None = None,
                 provider_code: str | None = None, message: str | None = None) -> RefundItem | None:
    """Move a refund to `to` once (conditional on the state read); None if it is unknown or the move
    is not allowed (a repeated or late result). A final result puts its event in the outbox."""
    bind_all()
    for _ in range(MAX_ATTEMPTS):
        item = repository.get_refund(refund_id)
        if item is None or not rules.can_move(item.state, to):
            return None
        now = now_iso()
        key = RefundItem(*RefundItem.key(refund_id))
        actions = [RefundItem.state.set(to), RefundItem.updated_at.set(now)]
        if provider_refund_id:
            actions.append(RefundItem.provider_refund_id.set(str(provider_refund_id)))
            item.provider_refund_id = str(provider_refund_id)
        tx = Tx()
        if to in rules.FINAL_STATES:
            actions += [RefundItem.gsi2pk.remove(), RefundItem.gsi2sk.remove()]
            if to == rules.SUCCEEDED:
                item.refunded_at = refunded_at or now
                actions.append(RefundItem.refunded_at.set(item.refunded_at))
                event = _succeeded_event(item, item.refunded_at)
            else:
                item.provider_code, item.message = provider_code or "FAILED", (message or "")[:300]
                actions += [RefundItem.provider_code.set(item.provider_code), RefundItem.message.set(item.message)]
                event = _failed_event(item)
                # No money moved: the amount may be refunded again (by a new cause).
                tx.update("txn", TransactionItem(*TransactionItem.key(item.channel, item.transaction_id)),
                          [TransactionItem.refunded.add(-int(item.amount)), TransactionItem.updated_at.set(now)],
                          TransactionItem.refunded >= int(item.amount))
            for outbox_item in repository.outbox_items(item.pk, [event]):
                tx.put("outbox", outbox_item)
        tx.update("refund", key, actions, RefundItem.state == item.state)
        try:
            tx.commit()
        except TxCancelled:
            continue                     # moved by another result meanwhile: read again
        repository.flush_outbox(item.pk)
        item.state, item.updated_at = to, now
        logger.info("refund result applied", extra={"refund_id": refund_id, "state": to,
                                                    "order_id": item.order_id, "amount": int(item.amount)})
        return item
    raise problems.Conflict("The refund is changing; retry.", code="concurrent_update", retryable=True)


def resolve(item: RefundItem) -> RefundItem:
    """An open refund whose result is late: ask the provider; submit again (same id) if it has none."""
    settings = _settings()
    configured = creds.credentials()
    try:
        if item.channel == "wechat" and configured.wechatpay is not None:
            doc = ports.get().provider(WECHATPAY).query_refund(
                configured.wechatpay, out_refund_no=item.refund_id, api_base=settings.wechatpay_api_base,
                timeout=settings.provider_timeout_seconds)
            return submit(item) if doc is None else _apply_wechat(item, doc)
        if item.channel == "alipay" and configured.alipay is not None:
            node = ports.get().provider(ALIPAY).query_refund(
                configured.alipay, out_trade_no=item.order_id, trade_no=item.transaction_id,
                out_request_no=item.refund_id, gateway=settings.alipay_pay_gateway,
                timeout=settings.provider_timeout_seconds)
            state = rules.alipay_query_state(node is not None, (node or {}).get("refund_status"))
            if state is None:
                return submit(item)
            return apply_result(item.refund_id, state, refunded_at=_beijing_to_iso((node or {}).get("gmt_refund_pay"))
                                if state == rules.SUCCEEDED else None) or _current(item)
    except ProviderError as exc:
        logger.warning("refund query failed", extra={"refund_id": item.refund_id, "provider_code": exc.code})
    return item


def poll_open_refunds(*, older_than_seconds: int = POLL_AFTER_SECONDS) -> int:
    """Every minute: refunds open for longer than `older_than_seconds`, asked about; how many ended."""
    before = iso(utcnow() - timedelta(seconds=older_than_seconds))
    ended = 0
    for item in repository.open_refunds(before=before):
        if resolve(item).state in rules.FINAL_STATES:
            ended += 1
    return ended


# -- notifications ------------------------------------------------------------------------------

def wechat_refund_notification(headers: dict[str, str], body: str) -> tuple[int, dict]:
    """WeChat Pay's refund notification (REFUND.SUCCESS / ABNORMAL / CLOSED), verified as a payment one
    (platform key serial, 5-minute timestamp, RSA signature, AES-256-GCM resource), applied once."""
    settings = _settings()
    cfg = creds.credentials().wechatpay
    if cfg is None:
        logger.error("wechat pay refund notification but wechat pay is not configured",
                     extra={"reason": "not_configured"})
        return 400, dict(WECHAT_FAIL)
    try:
        note = ports.get().provider(WECHATPAY).verify_notification(
            cfg, headers, body, now=time.time(), max_age_seconds=settings.wechat_notification_max_age_seconds,
            api_base=settings.wechatpay_api_base, timeout=settings.provider_timeout_seconds, with_appid=False)
    except NotificationRejected as exc:
        logger.warning("wechat pay refund notification rejected", extra={"reason": exc.reason})
        return 400, dict(WECHAT_FAIL)
    resource = note["resource"]
    to = WECHAT_REFUND_EVENTS.get(str(note.get("event_type")))
    if to is None or rules.wechat_state(str(resource.get("refund_status"))) != to:
        logger.warning("wechat pay refund notification rejected", extra={"reason": "inconsistent_status"})
        return 400, dict(WECHAT_FAIL)
    item = repository.get_refund(str(resource.get("out_refund_no") or ""))
    if item is None or item.channel != "wechat":
        logger.error("wechat pay refund notification for no refund of ours", extra={
            "reason": "unknown_refund", "out_refund_no": resource.get("out_refund_no")})
        return 400, dict(WECHAT_FAIL)
    try:
        refunded = int((resource.get("amount") or {}).get("refund"))
    except (TypeError, ValueError):
        refunded = -1
    if refunded != int(item.amount) or str(resource.get("transaction_id")) != item.transaction_id:
        logger.error("wechat pay refund notification does not match the refund", extra={
            "reason": "mismatch", "refund_id": item.refund_id, "amount": refunded})
        return 400, dict(WECHAT_FAIL)
    applied = apply_result(item.refund_id, to, provider_refund_id=resource.get("refund_id"),
                           refunded_at=_iso_or_none(resource.get("success_time")),
                           provider_code=str(resource.get("refund_status")),
                           message=f"WeChat Pay: {note.get('event_type')}")
    return 200, {"code": "SUCCESS", "message": "applied" if applied else "duplicate"}


def alipay_refund_notification(body: str) -> tuple[int, str]:
    """Alipay's asynchronous notification of a refund (out_biz_no: our out_request_no; refund_fee, the
    trade's refunded total; gmt_refund), RSA2-verified, applied once. Anything but "success" is retried."""
    settings = _settings()
    cfg = creds.credentials().alipay
    if cfg is None:
        logger.error("alipay refund notification but alipay is not configured", extra={"reason": "not_configured"})
        return 400, ALIPAY_FAIL
    try:
        params = dict(parse_qsl(body or "", keep_blank_values=True, errors="strict"))
        note = ports.get().provider(ALIPAY).verify_refund_notification(
            cfg, params, now=utcnow(), max_age_seconds=settings.alipay_notification_max_age_seconds)
    except NotificationRejected as exc:
        logger.warning("alipay refund notification rejected", extra={"reason": exc.reason})
        return 400, ALIPAY_FAIL
    except ValueError:
        logger.warning("alipay refund notification rejected", extra={"reason": "unreadable"})
        return 400, ALIPAY_FAIL
    item = repository.get_refund(note["out_biz_no"])
    if item is None or item.channel != "alipay" or item.transaction_id != note["trade_no"]:
        logger.error("alipay refund notification for no refund of ours", extra={
            "reason": "unknown_refund", "out_biz_no": note["out_biz_no"]})
        return 400, ALIPAY_FAIL
    refunded_total = orders.fen_from_yuan_text(note["refund_fee"])
    if refunded_total is None or refunded_total < int(item.amount):
        logger.error("alipay refund notification does not cover the refund", extra={
            "reason": "mismatch", "refund_id": item.refund_id, "refund_fee": note["refund_fee"]})
        return 400, ALIPAY_FAIL
    apply_result(item.refund_id, rules.SUCCEEDED, refunded_at=_beijing_to_iso(note.get("gmt_refund")))
    return 200, "success"


# -- causes (orders' events) -------------------------------------------------------------------

def ask_for_after_sale(event) -> RefundAsk:
    return RefundAsk(refund_id=rules.after_sale_refund_id(event.after_sale_id), order_id=event.order_id,
                     user_id=event.user_id, channel=event.channel, transaction_id=event.transaction_id,
                     amount=int(event.amount), paid=int(event.order_total), cause=rules.AFTER_SALE,
                     after_sale_id=event.after_sale_id)


def ask_for_required(event) -> RefundAsk:
    return RefundAsk(refund_id=rules.required_refund_id(event.channel, event.transaction_id, event.reason),
                     order_id=event.order_id, user_id=event.user_id, channel=event.channel,
                     transaction_id=event.transaction_id, amount=int(event.amount), paid=int(event.amount),
                     cause=event.reason)


# -- helpers -------------------------------------------------------------------------------------

def _iso_or_none(value) -> str | None:
    if not value:
        return None
    try:
        return iso(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def _beijing_to_iso(value) -> str | None:
    if not value:
        return None
    try:
        return iso(datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING))
    except ValueError:
        return None
